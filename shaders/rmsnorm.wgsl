// RMSNorm: y[r, i] = x[r, i] * rstd[r] * w[i], rstd[r] = 1 / sqrt(mean_i x[r, i]^2 + eps).
// Layout: x, y, dy, dx are [rows, dim] row-major f32; w, dw are [dim]; rstd is [rows] (saved by
// forward for backward).
// forward, backward_x: workgroups of 64 threads, TPR threads per row (so 64 / TPR rows per
//   workgroup; workgroups folded into 2-D grids past 65,535); a row's threads stride over it and
//   reduce through workgroup memory. Several rows per workgroup because on CPU adapters each
//   workgroup has a fixed cost (~4.6 µs on lavapipe) that one short row does not pay back.
//   backward_x adds into dx instead of writing it when p.accumulate is 1 (the residual stream's
//   gradient, which backward sums with this one: one launch fewer than an addInto).
// backward_w: one thread per column, 64 per workgroup, summing over rows in a fixed order
//   (deterministic, no atomics).

struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
  accumulate: u32,
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
override TPR: u32 = 64u;
var<workgroup> partial: array<f32, WG>;

// Sum of v over the TPR threads of this thread's row (tid / TPR); every thread of the workgroup calls it.
fn row_sum(tid: u32, v: f32) -> f32 {
  partial[tid] = v;
  workgroupBarrier();
  let lane = tid % TPR;
  for (var s = TPR / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      partial[tid] += partial[tid + s];
    }
    workgroupBarrier();
  }
  let total = partial[tid - lane];
  workgroupBarrier();
  return total;
}

// The row of this thread (may be past the end: such threads still join the barriers) and its lane.
fn row_of(wid: vec3u, nwg: vec3u, tid: u32) -> vec2u {
  return vec2u((wid.y * nwg.x + wid.x) * (WG / TPR) + tid / TPR, tid % TPR);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let rl = row_of(wid, nwg, tid);
  let row = rl.x;
  let valid = row < p.rows;
  let base = row * p.dim;
  var ss = 0.0;
  if (valid) {
    for (var i = rl.y; i < p.dim; i += TPR) {
      let v = x[base + i];
      ss += v * v;
    }
  }
  let r = inverseSqrt(row_sum(tid, ss) / f32(p.dim) + p.eps);
  if (!valid) {
    return;
  }
  for (var i = rl.y; i < p.dim; i += TPR) {
    y[base + i] = x[base + i] * r * w[i];
  }
  if (rl.y == 0u) {
    rstd[row] = r;
  }
}

// dx[i] = r * w[i] * dy[i] - x[i] * r^3 / dim * sum_j dy[j] * w[j] * x[j]
@compute @workgroup_size(WG)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let rl = row_of(wid, nwg, tid);
  let row = rl.x;
  let valid = row < p.rows;
  let base = row * p.dim;
  var acc = 0.0;
  if (valid) {
    for (var i = rl.y; i < p.dim; i += TPR) {
      acc += dy[base + i] * w[i] * x[base + i];
    }
  }
  let total = row_sum(tid, acc);
  if (!valid) {
    return;
  }
  let r = rstd[row];
  let c = total * r * r * r / f32(p.dim);
  for (var i = rl.y; i < p.dim; i += TPR) {
    let g = r * w[i] * dy[base + i] - x[base + i] * c;
    if (p.accumulate != 0u) {
      dx[base + i] += g;
    } else {
      dx[base + i] = g;
    }
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
