// Row-broadcast bias: y[r, c] += bias[c], the bias of a Linear layer (Qwen2's q/k/v projections).
// Layout: y is row-major f32 [rows, cols] (p.n = rows · cols elements), bias is f32 [cols].
// Workgroup: 256 threads, one element each; workgroups folded into a 2-D grid past 65,535.

struct Params {
  n: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i >= p.n) {
    return;
  }
  y[i] += bias[i % p.cols];
}
