// Transposes the last two dimensions for the outer-product form of matmul (matmul-vec4.wgsl with
// TRANS_A): dst[z, j, i] = src[z, i, j] for i < rows, and 0 for rows ≤ i < rows_pad (a's rows are
// padded to a multiple of 4 so that one vec4 holds 4 of them).
// Layout: src [batch, rows, cols] row-major → dst [batch, cols, rows_pad] row-major; f32, or f16
//   for weights (the host swaps the BType alias and enables f16).
// Workgroup: 16×16 threads, one element of dst each; grid (ceil(rows_pad/16), ceil(cols/16), batch).

alias BType = f32;

struct Params {
  rows: u32,
  cols: u32,
  rows_pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<BType>;
@group(0) @binding(2) var<storage, read_write> dst: array<BType>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let j = gid.y;
  let z = gid.z;
  if (i >= p.rows_pad || j >= p.cols) {
    return;
  }
  var v = BType(0);
  if (i < p.rows) {
    v = src[(z * p.rows + i) * p.cols + j];
  }
  dst[(z * p.cols + j) * p.rows_pad + i] = v;
}
