// RMSNorm: y[r, i] = x[r, i] * rstd[r] * w[i], rstd[r] = 1 / sqrt(mean_i x[r, i]^2 + eps).
// Layout: x, y, dy, dx are [rows, dim] row-major f32; w, dw are [dim]; rstd is [rows] (saved by
// forward for backward).
// forward, backward_x: one workgroup of 64 threads per row (rows folded into 2-D grids past 65,535),
//   threads stride over the row and reduce through workgroup memory.
// backward_w: one thread per column, 64 per workgroup, summing over rows in a fixed order
//   (deterministic, no atomics).

struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(tid: u32, v: f32) -> f32 {
  partial[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (tid < s) {
      partial[tid] += partial[tid + s];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.dim;
  var ss = 0.0;
  for (var i = tid; i < p.dim; i += WG) {
    let v = x[base + i];
    ss += v * v;
  }
  let r = inverseSqrt(workgroup_sum(tid, ss) / f32(p.dim) + p.eps);
  for (var i = tid; i < p.dim; i += WG) {
    y[base + i] = x[base + i] * r * w[i];
  }
  if (tid == 0u) {
    rstd[row] = r;
  }
}

// dx[i] = r * w[i] * dy[i] - x[i] * r^3 / dim * sum_j dy[j] * w[j] * x[j]
@compute @workgroup_size(WG)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.dim;
  var acc = 0.0;
  for (var i = tid; i < p.dim; i += WG) {
    acc += dy[base + i] * w[i] * x[base + i];
  }
  let r = rstd[row];
  let c = workgroup_sum(tid, acc) * r * r * r / f32(p.dim);
  for (var i = tid; i < p.dim; i += WG) {
    dx[base + i] = r * w[i] * dy[base + i] - x[base + i] * c;
  }
}

// dw[i] = sum_r dy[r, i] * x[r, i] * rstd[r]
@compute @workgroup_size(WG)
fn backward_w(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.dim) {
    return;
  }
  var acc = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    acc += dy[r * p.dim + i] * x[r * p.dim + i] * rstd[r];
  }
  dw[i] = acc;
}
