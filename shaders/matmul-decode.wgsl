// Decode-sized Linear layers (m ≤ 8 rows of input, weights [n, k] as Hugging Face stores them):
//   main:    c[z, r, j] = alpha * sum_k a[z, r, k] * b[z, j, k] (+ c[z, r, j] when p.accumulate = 1)
//   linear3: c = a·bᵀ, c1 = a·b1ᵀ, c2 = a·b2ᵀ in one launch (q, k, v of one input); workgroups are
//            laid out segment after segment, so each workgroup reads one weight tensor only
//   swiglu:  act = silu(a·bᵀ) * (a·b1ᵀ) (gate b, up b1): the MLP's two products and its activation;
//            a thread takes 2 gate and the same 2 up rows (4 weight rows per step, like the others:
//            8 rows per step measured up to 1.4× slower per weight with f32 weights on lavapipe)
// On CPU adapters every storage load is a per-lane gather, so each thread reads 8 k-values of 4
// weight rows per step (W8: 8 halves bit-packed in a vec4<u32>, or a mat2x4<f32>) and reuses each
// load of a across those 4 rows and the m rows of a; accumulation is f32.
// Layout: a [batch, m, k] f32; b, b1, b2 [batch, n_i, k] as W8 elements; c, c1, c2, act
//   [batch, m, n_i] f32; all row-major. Needs k % 8 == 0 and every n_i % 4 == 0. Batch strides in elements of each
//   array (0 shares one matrix across the batch); linear3 and swiglu take batch 1.
// Workgroup: WG = 16 threads, 4 output columns each (2 for swiglu), so small n still spreads over
//   several workgroups, which keeps both threads of a 2-core lavapipe busy; grid (column groups, 1, batch).

override ROWS: u32 = 1u;
const MAX_ROWS: u32 = 8u;
const WG: u32 = 16u;

struct Params {
  m: u32,
  k8: u32,
  n0: u32,
  n1: u32,
  n2: u32,
  a_batch4: u32,
  b_batch8: u32,
  alpha: f32,
  accumulate: u32,
}

// The f32-weight variant swaps these two lines for `alias W8 = mat2x4f;` and an identity unpack8
// (src/ops/matmul.ts), so both element types share every other line.
alias W8 = vec4u;
fn unpack8(w: W8) -> mat2x4f { return mat2x4f(vec4f(unpack2x16float(w.x), unpack2x16float(w.y)), vec4f(unpack2x16float(w.z), unpack2x16float(w.w))); }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<W8>;
@group(0) @binding(3) var<storage, read> b1: array<W8>;
@group(0) @binding(4) var<storage, read> b2: array<W8>;
@group(0) @binding(5) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> c1: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> c2: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> act: array<vec2f>;

alias Acc = array<vec4f, MAX_ROWS>;

// One step of 8 k-values: 4 weight rows against each of the m rows of a (starting at vec4 a0).
fn step(acc: ptr<function, Acc>, a0: u32, kk: u32, w0: W8, w1: W8, w2: W8, w3: W8) {
  let u0 = unpack8(w0);
  let u1 = unpack8(w1);
  let u2 = unpack8(w2);
  let u3 = unpack8(w3);
  for (var r = 0u; r < ROWS; r++) {
    let lo = a[a0 + r * 2u * p.k8 + 2u * kk];
    let hi = a[a0 + r * 2u * p.k8 + 2u * kk + 1u];
    (*acc)[r] += vec4f(
      dot(lo, u0[0]) + dot(hi, u0[1]),
      dot(lo, u1[0]) + dot(hi, u1[1]),
      dot(lo, u2[0]) + dot(hi, u2[1]),
      dot(lo, u3[0]) + dot(hi, u3[1]),
    );
  }
}

// The first W8 element of weight row 4·col4 (rows hold k8 elements; row 4·col4 + i starts i·k8 later).
fn row_start(col4: u32) -> u32 {
  return col4 * 4u * p.k8;
}

// The batch index comes from workgroup_id, not global_invocation_id: llvmpipe proves only the former
// uniform, and a uniform address is one load broadcast to all lanes instead of a load per lane.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let col4 = gid.x;
  let n4 = p.n0 / 4u;
  if (col4 >= n4) {
    return;
  }
  let k8 = p.k8;
  let a0 = wid.z * p.a_batch4;
  let b0 = wid.z * p.b_batch8 + row_start(col4);
  var acc: Acc;
  for (var kk = 0u; kk < k8; kk++) {
    step(&acc, a0, kk, b[b0 + kk], b[b0 + k8 + kk], b[b0 + 2u * k8 + kk], b[b0 + 3u * k8 + kk]);
  }
  for (var r = 0u; r < ROWS; r++) {
    let ci = (wid.z * p.m + r) * n4 + col4;
    var out = p.alpha * acc[r];
    if (p.accumulate != 0u) {
      out += c[ci];
    }
    c[ci] = out;
  }
}

@compute @workgroup_size(WG)
fn linear3(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let groups0 = (p.n0 + 4u * WG - 1u) / (4u * WG);
  let groups1 = (p.n1 + 4u * WG - 1u) / (4u * WG);
  let k8 = p.k8;
  var acc: Acc;
  if (wid.x < groups0) {
    let col4 = wid.x * WG + lid;
    if (col4 >= p.n0 / 4u) {
      return;
    }
    let b0 = row_start(col4);
    for (var kk = 0u; kk < k8; kk++) {
      step(&acc, 0u, kk, b[b0 + kk], b[b0 + k8 + kk], b[b0 + 2u * k8 + kk], b[b0 + 3u * k8 + kk]);
    }
    for (var r = 0u; r < ROWS; r++) {
      c[r * p.n0 / 4u + col4] = acc[r];
    }
  } else if (wid.x < groups0 + groups1) {
    let col4 = (wid.x - groups0) * WG + lid;
    if (col4 >= p.n1 / 4u) {
      return;
    }
    let b0 = row_start(col4);
    for (var kk = 0u; kk < k8; kk++) {
      step(&acc, 0u, kk, b1[b0 + kk], b1[b0 + k8 + kk], b1[b0 + 2u * k8 + kk], b1[b0 + 3u * k8 + kk]);
    }
    for (var r = 0u; r < ROWS; r++) {
      c1[r * p.n1 / 4u + col4] = acc[r];
    }
  } else {
    let col4 = (wid.x - groups0 - groups1) * WG + lid;
    if (col4 >= p.n2 / 4u) {
      return;
    }
    let b0 = row_start(col4);
    for (var kk = 0u; kk < k8; kk++) {
      step(&acc, 0u, kk, b2[b0 + kk], b2[b0 + k8 + kk], b2[b0 + 2u * k8 + kk], b2[b0 + 3u * k8 + kk]);
    }
    for (var r = 0u; r < ROWS; r++) {
      c2[r * p.n2 / 4u + col4] = acc[r];
    }
  }
}

// exp of a non-positive argument only, so large |g| never overflows (as in swiglu.wgsl).
fn silu(g: vec2f) -> vec2f {
  let e = exp(-abs(g));
  return g * select(e / (1.0 + e), 1.0 / (1.0 + e), g >= vec2f(0.0));
}

@compute @workgroup_size(WG)
fn swiglu(@builtin(global_invocation_id) gid: vec3u) {
  let col2 = gid.x;
  let n2 = p.n0 / 2u;
  if (col2 >= n2) {
    return;
  }
  let k8 = p.k8;
  let b0 = col2 * 2u * k8;
  // Per row of a: (gate, gate, up, up) of output columns 2·col2 and 2·col2 + 1.
  var acc: Acc;
  for (var kk = 0u; kk < k8; kk++) {
    step(&acc, 0u, kk, b[b0 + kk], b[b0 + k8 + kk], b1[b0 + kk], b1[b0 + k8 + kk]);
  }
  for (var r = 0u; r < ROWS; r++) {
    act[r * n2 + col2] = silu(acc[r].xy) * acc[r].zw;
  }
}
