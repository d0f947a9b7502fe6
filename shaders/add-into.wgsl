// y[i] += x[i mod x_len]. Elementwise (x_len = n): sums gradients that reach one tensor along two
// paths (the residual stream and a block's input), or adds one micro-batch's gradient into an
// accumulated one. Broadcast over rows (x_len = the row length): a Linear layer's bias (Qwen2's q/k/v).
// Layout: y is a flat f32 array of p.n elements (any shape), x one of p.x_len.
// Workgroup: 256 threads, one element each; workgroups folded into a 2-D grid past 65,535.

struct Params {
  n: u32,
  x_len: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i >= p.n) {
    return;
  }
  y[i] += x[i % p.x_len];
}
