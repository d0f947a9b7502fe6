// Row softmax family over logits [rows, vocab] (vocab up to ~50k, so each row is one workgroup):
//   forward:     lse[r] = log sum_i exp(logits[r, i]),  losses[r] = lse[r] - logits[r, targets[r]]
//                (every row; NaN where targets[r] >= vocab)
//   mean_loss:   mean[0] = sum_r mask[r] * losses[r] / counted[0],  counted[0] = sum_r mask[r]
//                (rows with mask 0 are skipped, so their losses may be anything; mean 0 if none counted)
//   backward:    dlogits[r, i] = (softmax(logits[r])[i] - [i == targets[r]]) * mask[r] / n,
//                n = p.count when the caller gives it (> 0), else counted[0]; exactly 0 where mask is 0
//   logp_gather: logp[r] = logits[r, targets[r]] - lse[r]  (log-likelihood of given tokens)
//   softmax:     probs[r, i] = softmax(p.scale * logits[r])[i]  (p.scale = 1 / temperature)
// Layout: logits, dlogits, probs [rows, vocab] row-major f32; targets u32 [rows]; mask, losses, lse,
//   logp f32 [rows]; mean, counted f32 [1].
// Workgroup: 256 threads. Per-row entry points take one workgroup per row (2-D grid past 65,535),
//   threads stride over the row keeping a running max and sum of exponentials, combined by a tree in
//   workgroup memory (fixed order: deterministic). mean_loss is a single workgroup striding over rows.

struct Params {
  rows: u32,
  vocab: u32,
  scale: f32,
  count: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> counted: array<f32>;
@group(0) @binding(8) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(9) var<storage, read_write> logp: array<f32>;
@group(0) @binding(10) var<storage, read_write> probs: array<f32>;

const WG: u32 = 256u;
const LOWEST: f32 = -3.4028234e38;
var<workgroup> wg_a: array<f32, WG>;
var<workgroup> wg_b: array<f32, WG>;

fn row_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// (m, s) with m = max_i scale * logits[row, i] and s = sum_i exp(scale * logits[row, i] - m),
// computed by the whole workgroup.
fn row_max_sum(row: u32, tid: u32, scale: f32) -> vec2f {
  let base = row * p.vocab;
  var m = LOWEST;
  var s = 0.0;
  for (var i = tid; i < p.vocab; i += WG) {
    let x = scale * logits[base + i];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  wg_a[tid] = m;
  wg_b[tid] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (tid < k) {
      let m1 = wg_a[tid];
      let m2 = wg_a[tid + k];
      let mm = max(m1, m2);
      wg_b[tid] = wg_b[tid] * exp(m1 - mm) + wg_b[tid + k] * exp(m2 - mm);
      wg_a[tid] = mm;
    }
    workgroupBarrier();
  }
  let result = vec2f(wg_a[0], wg_b[0]);
  workgroupBarrier();
  return result;
}

fn row_log_sum_exp(row: u32, tid: u32) -> f32 {
  let ms = row_max_sum(row, tid, 1.0);
  return ms.x + log(ms.y);
}

// logits[row, targets[row]], or NaN for an id outside the vocabulary (ids made on the GPU cannot be
// checked on the host; a NaN shows the mistake instead of scoring some other token).
fn target_logit(row: u32) -> f32 {
  let t = targets[row];
  if (t >= p.vocab) {
    // A NaN constant is rejected by WGSL, so the bits go through a runtime value.
    let nan_bits = 0x7fc00000u;
    return bitcast<f32>(nan_bits);
  }
  return logits[row * p.vocab + t];
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let l = row_log_sum_exp(row, tid);
  if (tid == 0u) {
    lse[row] = l;
    losses[row] = l - target_logit(row);
  }
}

@compute @workgroup_size(WG)
fn logp_gather(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let l = row_log_sum_exp(row, tid);
  if (tid == 0u) {
    logp[row] = target_logit(row) - l;
  }
}

@compute @workgroup_size(WG)
fn mean_loss(@builtin(local_invocation_index) tid: u32) {
  var total = 0.0;
  var count = 0.0;
  for (var r = tid; r < p.rows; r += WG) {
    let w = mask[r];
    if (w != 0.0) {
      total += w * losses[r];
      count += w;
    }
  }
  wg_a[tid] = total;
  wg_b[tid] = count;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (tid < k) {
      wg_a[tid] += wg_a[tid + k];
      wg_b[tid] += wg_b[tid + k];
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    mean[0] = select(0.0, wg_a[0] / wg_b[0], wg_b[0] != 0.0);
    counted[0] = wg_b[0];
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let n = select(counted[0], p.count, p.count > 0.0);
  let w = select(0.0, mask[row] / n, mask[row] != 0.0 && n != 0.0);
  let base = row * p.vocab;
  let t = targets[row];
  let l = lse[row];
  for (var i = tid; i < p.vocab; i += WG) {
    let g = exp(logits[base + i] - l) - select(0.0, 1.0, i == t);
    dlogits[base + i] = select(g * w, 0.0, w == 0.0);
  }
}

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  // Shifting by the maximum rather than by the log-sum-exp keeps the exponent exact for the
  // largest logits, where subtracting a large lse would cancel digits.
  let ms = row_max_sum(row, tid, p.scale);
  let base = row * p.vocab;
  for (var i = tid; i < p.vocab; i += WG) {
    probs[base + i] = exp(p.scale * logits[base + i] - ms.x) / ms.y;
  }
}
