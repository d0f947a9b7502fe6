// Rotary position embedding: each pair (a, b) of a head is rotated by angle = position · inv_freq[i],
//   y_a = x_a cos − x_b sin,  y_b = x_a sin + x_b cos;  backward rotates dy by −angle (`p.sign` = −1).
// Pairs: interleaved (x[2i], x[2i+1]) for Meta / llama2.c checkpoints, or rotate_half
//   (x[i], x[i + D/2]) for Hugging Face.
// Layout: x, y are [rows, heads, head_dim] row-major f32; positions is u32 [rows] (absolute positions,
//   so left padding and KV-cache offsets need nothing else); inv_freq is f32 [head_dim / 2].
// Workgroup: 64 threads, one per pair; workgroups folded into a 2-D grid past 65,535.
//
// Entry point `qkv_into_cache` (a KV-cache step): x = q, k_new, v_new [B·T, heads, head_dim] straight
//   from the projections; q is rotated into y, k rotated into cache_k and v copied into cache_v at
//   cache row b·max_tokens + past + t (the cache is [B, max_tokens, kv_heads, head_dim]). One launch
//   instead of two rotations and two copies, which also split the compute pass. Threads: one per
//   pair of q, then one per pair of k, then one per two values of v.
//
// Entry point `pair` (training): rotates q [rows, q_heads, head_dim] into y and k [rows, k_heads,
//   head_dim] (bound as k_new) into y_k at the same positions, by pp.sign · angle: one launch for the
//   two rotations of a block (forward, or backward with sign −1). Threads: one per pair of q, then one
//   per pair of k.
//
// Precision: the angle is f32(position) · inv_freq rounded to f32, as Hugging Face computes it, so
// its absolute error grows with the position (about position · inv_freq · 6e-8 rad: 2e-3 rad at
// position 32,768 for inv_freq 1); sin and cos of that f32 angle are then accurate to ~1e-7 (see
// sin_cos) up to angles of 2·10^5 rad, on every driver.

struct Params {
  pairs: u32,
  heads: u32,
  half_dim: u32,
  interleaved: u32,
  sign: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

struct CacheParams {
  q_pairs: u32,
  k_pairs: u32,
  q_heads: u32,
  kv_heads: u32,
  half_dim: u32,
  interleaved: u32,
  new_tokens: u32,
  max_tokens: u32,
  past: u32,
}

@group(0) @binding(5) var<uniform> pc: CacheParams;
@group(0) @binding(6) var<storage, read> k_new: array<f32>;
@group(0) @binding(7) var<storage, read> v_new: array<f32>;
@group(0) @binding(8) var<storage, read_write> cache_k: array<f32>;
@group(0) @binding(9) var<storage, read_write> cache_v: array<f32>;

struct PairParams {
  q_pairs: u32,
  k_pairs: u32,
  q_heads: u32,
  k_heads: u32,
  half_dim: u32,
  interleaved: u32,
  sign: f32,
}

@group(0) @binding(10) var<uniform> pp: PairParams;
@group(0) @binding(11) var<storage, read_write> y_k: array<f32>;

const WG: u32 = 64u;
// π/2 in three parts of 7 significant bits (the last rounded), so k · PIO2_1 and k · PIO2_2 are exact
// for k < 2^17.
const PIO2_1: f32 = 1.578125;
const PIO2_2: f32 = -0.00732421875;
const PIO2_3: f32 = -4.454454938240815e-6;
const TWO_OVER_PI: f32 = 0.6366197723675814;

// (sin a, cos a). WGSL bounds the built-ins only to 2^-11 absolute on [−π, π] (SwiftShader's are 2e-4
// off), too loose to match Hugging Face's rotations, so: Cody–Waite reduction by π/2 to |r| ≤ π/4,
// then Taylor polynomials whose truncation error there is below 3e-9.
fn sin_cos(a: f32) -> vec2f {
  let k = round(a * TWO_OVER_PI);
  let r = ((a - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  switch (i32(k) & 3) {
    case 0: {
      return vec2f(s, c);
    }
    case 1: {
      return vec2f(c, -s);
    }
    case 2: {
      return vec2f(-s, -c);
    }
    default: {
      return vec2f(-c, s);
    }
  }
}

// Indices of pair i of a head that starts at `base`: (2i, 2i+1) interleaved, else (i, i + D/2).
fn pair_indices(base: u32, i: u32, half_dim: u32, interleaved: u32) -> vec2u {
  if (interleaved != 0u) {
    return vec2u(base + 2u * i, base + 2u * i + 1u);
  }
  return vec2u(base + i, base + i + half_dim);
}

// (a, b) rotated by position · inv_freq[i] (sign −1: the opposite angle).
fn rotated(a: f32, b: f32, position: u32, i: u32, sign: f32) -> vec2f {
  let sc = sin_cos(f32(position) * inv_freq[i]);
  let s = sign * sc.x;
  return vec2f(a * sc.y - b * s, a * s + b * sc.y);
}

// Pair e of x (rows of `heads` heads, each of 2·half_dim values) rotated into the same place of y.
fn rotate_x_into_y(e: u32, half_dim: u32, heads: u32, interleaved: u32, sign: f32) {
  let i = e % half_dim;
  let head = e / half_dim;
  let ix = pair_indices(head * 2u * half_dim, i, half_dim, interleaved);
  let r = rotated(x[ix.x], x[ix.y], positions[head / heads], i, sign);
  y[ix.x] = r.x;
  y[ix.y] = r.y;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + tid;
  if (e >= p.pairs) {
    return;
  }
  rotate_x_into_y(e, p.half_dim, p.heads, p.interleaved, p.sign);
}

@compute @workgroup_size(WG)
fn qkv_into_cache(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + tid;
  let head_len = 2u * pc.half_dim;
  if (e < pc.q_pairs) {
    rotate_x_into_y(e, pc.half_dim, pc.q_heads, pc.interleaved, 1.0);
    return;
  }
  // Row `row` = b · new_tokens + t of the new tokens goes to cache row b · max_tokens + past + t.
  let row_len = pc.kv_heads * head_len;
  if (e < pc.q_pairs + pc.k_pairs) {
    let f = e - pc.q_pairs;
    let i = f % pc.half_dim;
    let head = f / pc.half_dim;
    let row = head / pc.kv_heads;
    let dst_row = (row / pc.new_tokens) * pc.max_tokens + pc.past + row % pc.new_tokens;
    let within = (head % pc.kv_heads) * head_len;
    let src = pair_indices(row * row_len + within, i, pc.half_dim, pc.interleaved);
    let dst = pair_indices(dst_row * row_len + within, i, pc.half_dim, pc.interleaved);
    let r = rotated(k_new[src.x], k_new[src.y], positions[row], i, 1.0);
    cache_k[dst.x] = r.x;
    cache_k[dst.y] = r.y;
    return;
  }
  let j = 2u * (e - pc.q_pairs - pc.k_pairs);
  if (j >= 2u * pc.k_pairs) {
    return;
  }
  let row = j / row_len;
  let dst = ((row / pc.new_tokens) * pc.max_tokens + pc.past + row % pc.new_tokens) * row_len + j % row_len;
  cache_v[dst] = v_new[j];
  cache_v[dst + 1u] = v_new[j + 1u];
}

@compute @workgroup_size(WG)
fn pair(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + tid;
  if (e < pp.q_pairs) {
    rotate_x_into_y(e, pp.half_dim, pp.q_heads, pp.interleaved, pp.sign);
    return;
  }
  let f = e - pp.q_pairs;
  if (f >= pp.k_pairs) {
    return;
  }
  let i = f % pp.half_dim;
  let head = f / pp.half_dim;
  let ix = pair_indices(head * 2u * pp.half_dim, i, pp.half_dim, pp.interleaved);
  let r = rotated(k_new[ix.x], k_new[ix.y], positions[head / pp.k_heads], i, pp.sign);
  y_k[ix.x] = r.x;
  y_k[ix.y] = r.y;
}
