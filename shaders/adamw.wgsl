// AdamW (Loshchilov & Hutter; PyTorch torch.optim.AdamW semantics), in place on param, m, v:
//   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − lr · (m / bc1) / (sqrt(v / bc2) + eps),   bc1 = 1 − β1^t, bc2 = 1 − β2^t.
// lr and the bias corrections are uniforms, so a schedule changes values, never the pipeline.
// 1−β1 and 1−β2 come from the host in float64: in f32, 1 − 0.999 is off by 1.3e-5 relative.
// Layout: param, grad, m, v are flat f32 arrays of p.n elements.
// step_guarded also reads stats = [norm, clip scale, non-finite flag] written by grad-norm.wgsl:
//   g is multiplied by the clip scale, and nothing is written when the flag is set (skipped step).
// Workgroup: 256 threads, one element each; workgroups folded into a 2-D grid past 65,535.

struct Params {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
  weight_decay: f32,
  bias_correction1: f32,
  bias_correction2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;

const WG: u32 = 256u;

fn update(i: u32, g: f32) {
  let m1 = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let v1 = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  let decayed = param[i] * (1.0 - p.lr * p.weight_decay);
  param[i] = decayed - p.lr * (m1 / p.bias_correction1) / (sqrt(v1 / p.bias_correction2) + p.eps);
}

@compute @workgroup_size(WG)
fn step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n) {
    update(i, grad[i]);
  }
}

@compute @workgroup_size(WG)
fn step_guarded(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + tid;
  if (i < p.n && stats[2] == 0.0) {
    update(i, grad[i] * stats[1]);
  }
}
