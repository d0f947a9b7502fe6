// Rotary position embedding: each pair (a, b) of a head is rotated by angle = position · inv_freq[i],
//   y_a = x_a cos − x_b sin,  y_b = x_a sin + x_b cos;  backward rotates dy by −angle (`p.sign` = −1).
// Pairs: interleaved (x[2i], x[2i+1]) for Meta / llama2.c checkpoints, or rotate_half
//   (x[i], x[i + D/2]) for Hugging Face.
// Layout: x, y are [rows, heads, head_dim] row-major f32; positions is u32 [rows] (absolute positions,
//   so left padding and KV-cache offsets need nothing else); inv_freq is f32 [head_dim / 2].
// Workgroup: 64 threads, one per pair; workgroups folded into a 2-D grid past 65,535.
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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + tid;
  if (e >= p.pairs) {
    return;
  }
  let i = e % p.half_dim;
  let head = e / p.half_dim;
  let row = head / p.heads;
  let base = head * 2u * p.half_dim;
  var ia = base + i;
  var ib = base + i + p.half_dim;
  if (p.interleaved != 0u) {
    ia = base + 2u * i;
    ib = ia + 1u;
  }
  let sc = sin_cos(f32(positions[row]) * inv_freq[i]);
  let c = sc.y;
  let s = p.sign * sc.x;
  let a = x[ia];
  let b = x[ib];
  y[ia] = a * c - b * s;
  y[ib] = a * s + b * c;
}
