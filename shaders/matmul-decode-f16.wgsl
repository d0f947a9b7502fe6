// Decode-sized Linear layers with f16 weights: c[z, m, n] = alpha * sum_k a[z, m, k] * b[z, n, k]
// (+ c) for m ≤ 8. Loads are what CPU adapters pay for (one bounds-checked load per thread), so b is
// read as vec4<u32>, 8 halves per load, and unpacked to f32; accumulation is f32.
// Layout: a [batch, m, k] f32; b [batch, n, k] f16 (as packed u32 pairs); c [batch, m, n] f32; all
//   row-major. Needs k % 8 == 0 and n % 4 == 0. Batch strides in elements of each array; 0 shares.
// Workgroup: 64 threads, each 4 columns × ROWS (= m) rows; grid (ceil(n/256), 1, batch).

override ROWS: u32 = 1u;
const MAX_ROWS: u32 = 8u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  a_batch4: u32,
  b_batch8: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4u>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

// Halves 0–3 and 4–7 of one packed load.
fn low(w: vec4u) -> vec4f {
  return vec4f(unpack2x16float(w.x), unpack2x16float(w.y));
}

fn high(w: vec4u) -> vec4f {
  return vec4f(unpack2x16float(w.z), unpack2x16float(w.w));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col4 = gid.x;
  let batch = gid.z;
  let n4 = p.n / 4u;
  if (col4 >= n4) {
    return;
  }
  let k8 = p.k / 8u;
  let a0 = batch * p.a_batch4;
  let b0 = batch * p.b_batch8 + col4 * 4u * k8;
  var acc: array<vec4f, MAX_ROWS>;
  for (var kk = 0u; kk < k8; kk++) {
    let w0 = b[b0 + kk];
    let w1 = b[b0 + k8 + kk];
    let w2 = b[b0 + 2u * k8 + kk];
    let w3 = b[b0 + 3u * k8 + kk];
    let l0 = low(w0);
    let l1 = low(w1);
    let l2 = low(w2);
    let l3 = low(w3);
    let h0 = high(w0);
    let h1 = high(w1);
    let h2 = high(w2);
    let h3 = high(w3);
    for (var r = 0u; r < ROWS; r++) {
      let lo = a[a0 + r * 2u * k8 + 2u * kk];
      let hi = a[a0 + r * 2u * k8 + 2u * kk + 1u];
      acc[r] += vec4f(dot(lo, l0) + dot(hi, h0), dot(lo, l1) + dot(hi, h1), dot(lo, l2) + dot(hi, h2), dot(lo, l3) + dot(hi, h3));
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let ci = (batch * p.m + r) * n4 + col4;
    var out = p.alpha * acc[r];
    if (p.accumulate != 0u) {
      out += c[ci];
    }
    c[ci] = out;
  }
}
