// Row-wise cosine similarity of two hidden-state tensors and its angular distance, summed over
// selected rows (Gromov et al. 2024: the residual stream entering block l vs entering block l+n).
//   cos[r] = clamp(a·b / (max(‖a‖, 1e-8) · max(‖b‖, 1e-8)), −1, 1), as torch cosine_similarity; a row
//   of zeros has cos 0, i.e. angular distance 1/2.
//   angular distance = acos(cos) / π ∈ [0, 1].
// Layout: a, b are [p.rows, p.dim] row-major f32. cosine_all writes cosines[r] for every row r;
// cosine_listed writes cosines[i] for row rows[i], i < p.count (a listed row ≥ p.rows gets 0 and is not
// counted). accumulate_* add (Σ cos, Σ angular distance, number of rows) over the selected entries
// of cosines into totals (f32 [3]), so batches of calibration prompts accumulate on the GPU in a fixed order.
// Workgroups: cosine_* one workgroup of 64 threads per row (2-D grid past 65,535 rows), threads
// stride over the row and reduce through workgroup memory; accumulate_* one workgroup of 256 threads.

struct Params {
  rows: u32,
  dim: u32,
  count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> cosines: array<f32>;
@group(0) @binding(6) var<storage, read_write> totals: array<f32>;

const PI: f32 = 3.14159265358979;
const ROW_WG: u32 = 64u;
const SUM_WG: u32 = 256u;
var<workgroup> scratch: array<vec3f, SUM_WG>;

fn workgroup_sum(tid: u32, size: u32, v: vec3f) -> vec3f {
  scratch[tid] = v;
  workgroupBarrier();
  for (var s = size / 2u; s > 0u; s = s / 2u) {
    if (tid < s) {
      scratch[tid] += scratch[tid + s];
    }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}

// (a·b, ‖a‖², ‖b‖²) of one row, reduced over the workgroup.
fn row_cosine(tid: u32, row: u32) -> f32 {
  let base = row * p.dim;
  var acc = vec3f(0.0);
  for (var i = tid; i < p.dim; i += ROW_WG) {
    let x = a[base + i];
    let y = b[base + i];
    acc += vec3f(x * y, x * x, y * y);
  }
  let s = workgroup_sum(tid, ROW_WG, acc);
  return clamp(s.x / (max(sqrt(s.y), 1e-8) * max(sqrt(s.z), 1e-8)), -1.0, 1.0);
}

@compute @workgroup_size(ROW_WG)
fn cosine_all(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let r = wid.y * nwg.x + wid.x;
  if (r >= p.rows) {
    return;
  }
  let c = row_cosine(tid, r);
  if (tid == 0u) {
    cosines[r] = c;
  }
}

@compute @workgroup_size(ROW_WG)
fn cosine_listed(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = wid.y * nwg.x + wid.x;
  if (i >= p.count) {
    return;
  }
  let row = rows[i];
  var c = 0.0;
  if (row < p.rows) {
    c = row_cosine(tid, row);
  }
  if (tid == 0u) {
    cosines[i] = c;
  }
}

fn add_totals(tid: u32, v: vec3f) {
  let s = workgroup_sum(tid, SUM_WG, v);
  if (tid == 0u) {
    totals[0] += s.x;
    totals[1] += s.y;
    totals[2] += s.z;
  }
}

fn term(c: f32) -> vec3f {
  return vec3f(c, acos(c) / PI, 1.0);
}

@compute @workgroup_size(SUM_WG)
fn accumulate_listed(@builtin(local_invocation_index) tid: u32) {
  var acc = vec3f(0.0);
  for (var i = tid; i < p.count; i += SUM_WG) {
    if (rows[i] < p.rows) {
      acc += term(cosines[i]);
    }
  }
  add_totals(tid, acc);
}

@compute @workgroup_size(SUM_WG)
fn accumulate_masked(@builtin(local_invocation_index) tid: u32) {
  var acc = vec3f(0.0);
  for (var i = tid; i < p.count; i += SUM_WG) {
    if (mask[i] != 0u) {
      acc += term(cosines[i]);
    }
  }
  add_totals(tid, acc);
}
