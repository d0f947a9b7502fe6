// Matrix product in outer-product form, operands read in place: c[z, m, n] = alpha * sum_k
// opA[z, m, k] * opB[z, k, n] (+ c). Each thread keeps 8 rows × 8 columns of c (16 vec4 registers)
// and, per k, loads 8 values of a and 8 of b, one 32-bit word each, and does 64 FMAs. On lavapipe a
// storage load at a non-uniform address costs one word per lane whatever its width, so scalar loads
// at any stride cost what vec4 loads do: transposed operands need no transposed copy (the copies cost
// a launch each, ~400 per training step). Any m and k; rows and columns past the end are clamped.
// Layout (row-major; a f32, b f32 or f16 through the BType alias, c f32, accumulation f32):
//   element (row, kk) of op(a) at a[z·a_batch + row·a_row + kk·a_k], (kk, col) of op(b) at
//   b[z·b_batch + col·b_col + kk·b_k]; c [batch, m, n] as vec4. Needs n % 4 == 0.
//   A batch stride of 0 shares that operand across the batch.
// Workgroup: WG_X × WG_Y threads (x over 8-column blocks, y over 8-row blocks);
//   grid (ceil(n / (8·WG_X)), ceil(m / (8·WG_Y)), batch).

alias BType = f32;

override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  a_batch: u32,
  a_row: u32,
  a_k: u32,
  b_batch: u32,
  b_col: u32,
  b_k: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<BType>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

fn store(batch: u32, row: u32, col4: u32, acc: vec4f) {
  let n4 = p.n / 4u;
  if (row < p.m && col4 < n4) {
    let ci = (batch * p.m + row) * n4 + col4;
    var out = p.alpha * acc;
    if (p.accumulate != 0u) {
      out += c[ci];
    }
    c[ci] = out;
  }
}

fn b4(o0: u32, o1: u32, o2: u32, o3: u32) -> vec4f {
  return vec4f(f32(b[o0]), f32(b[o1]), f32(b[o2]), f32(b[o3]));
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n4 = p.n / 4u;
  let col0 = gid.x * 8u;
  let row0 = gid.y * 8u;
  let batch = gid.z;
  if (col0 >= p.n || row0 >= p.m) {
    return;
  }
  let ab = batch * p.a_batch;
  let bb = batch * p.b_batch;
  // Offsets of the 8 rows of a and the 8 columns of b at k = 0 (clamped to the last row / column).
  let ra0 = ab + min(row0 + 0u, p.m - 1u) * p.a_row;
  let ra1 = ab + min(row0 + 1u, p.m - 1u) * p.a_row;
  let ra2 = ab + min(row0 + 2u, p.m - 1u) * p.a_row;
  let ra3 = ab + min(row0 + 3u, p.m - 1u) * p.a_row;
  let ra4 = ab + min(row0 + 4u, p.m - 1u) * p.a_row;
  let ra5 = ab + min(row0 + 5u, p.m - 1u) * p.a_row;
  let ra6 = ab + min(row0 + 6u, p.m - 1u) * p.a_row;
  let ra7 = ab + min(row0 + 7u, p.m - 1u) * p.a_row;
  let cb0 = bb + col0 * p.b_col;
  let col1 = min(col0 + 4u, p.n - 4u);
  let cb1 = bb + col1 * p.b_col;
  var acc00 = vec4f();
  var acc01 = vec4f();
  var acc10 = vec4f();
  var acc11 = vec4f();
  var acc20 = vec4f();
  var acc21 = vec4f();
  var acc30 = vec4f();
  var acc31 = vec4f();
  var acc40 = vec4f();
  var acc41 = vec4f();
  var acc50 = vec4f();
  var acc51 = vec4f();
  var acc60 = vec4f();
  var acc61 = vec4f();
  var acc70 = vec4f();
  var acc71 = vec4f();
  for (var kk = 0u; kk < p.k; kk++) {
    let ka = kk * p.a_k;
    let kb = kk * p.b_k;
    let q = b4(cb0 + kb, cb0 + p.b_col + kb, cb0 + 2u * p.b_col + kb, cb0 + 3u * p.b_col + kb);
    let s = b4(cb1 + kb, cb1 + p.b_col + kb, cb1 + 2u * p.b_col + kb, cb1 + 3u * p.b_col + kb);
    let lo = vec4f(a[ra0 + ka], a[ra1 + ka], a[ra2 + ka], a[ra3 + ka]);
    let hi = vec4f(a[ra4 + ka], a[ra5 + ka], a[ra6 + ka], a[ra7 + ka]);
    acc00 += lo.x * q;
    acc01 += lo.x * s;
    acc10 += lo.y * q;
    acc11 += lo.y * s;
    acc20 += lo.z * q;
    acc21 += lo.z * s;
    acc30 += lo.w * q;
    acc31 += lo.w * s;
    acc40 += hi.x * q;
    acc41 += hi.x * s;
    acc50 += hi.y * q;
    acc51 += hi.y * s;
    acc60 += hi.z * q;
    acc61 += hi.z * s;
    acc70 += hi.w * q;
    acc71 += hi.w * s;
  }
  let c0 = col0 / 4u;
  let c1 = c0 + 1u;
  store(batch, row0 + 0u, c0, acc00);
  store(batch, row0 + 0u, c1, acc01);
  store(batch, row0 + 1u, c0, acc10);
  store(batch, row0 + 1u, c1, acc11);
  store(batch, row0 + 2u, c0, acc20);
  store(batch, row0 + 2u, c1, acc21);
  store(batch, row0 + 3u, c0, acc30);
  store(batch, row0 + 3u, c1, acc31);
  store(batch, row0 + 4u, c0, acc40);
  store(batch, row0 + 4u, c1, acc41);
  store(batch, row0 + 5u, c0, acc50);
  store(batch, row0 + 5u, c1, acc51);
  store(batch, row0 + 6u, c0, acc60);
  store(batch, row0 + 6u, c1, acc61);
  store(batch, row0 + 7u, c0, acc70);
  store(batch, row0 + 7u, c1, acc71);
}
