// Matrix product, general form: c[z, m, n] = alpha * sum_k opA[z, m, k] * opB[z, k, n] (+ c[z, m, n]
// when accumulating). Fallback for shapes the vec4 kernel (matmul-vec4.wgsl) cannot take.
// Layout: a f32, b f32 or f16 (the host swaps the BType alias and enables f16), both row-major and
//   read through element strides, so transposed operands and a batch-shared operand (batch stride 0)
//   need no copies; c is [batch, m, n] row-major f32, accumulation always f32.
// Workgroup: 16×16 threads, one output element each; grid (ceil(n/16), ceil(m/16), batch).

alias BType = f32;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  a_stride_m: u32,
  a_stride_k: u32,
  a_stride_batch: u32,
  b_stride_k: u32,
  b_stride_n: u32,
  b_stride_batch: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<BType>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  let row = gid.y;
  let batch = gid.z;
  if (row >= p.m || col >= p.n) {
    return;
  }
  var ai = batch * p.a_stride_batch + row * p.a_stride_m;
  var bi = batch * p.b_stride_batch + col * p.b_stride_n;
  var acc = 0.0;
  for (var kk = 0u; kk < p.k; kk++) {
    acc += a[ai] * f32(b[bi]);
    ai += p.a_stride_k;
    bi += p.b_stride_k;
  }
  let ci = (batch * p.m + row) * p.n + col;
  var out = p.alpha * acc;
  if (p.accumulate != 0u) {
    out += c[ci];
  }
  c[ci] = out;
}
