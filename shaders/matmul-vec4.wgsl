// Matrix product, register-blocked: c[z, m, n] = alpha * sum_k opA[z, m, k] * opB[z, k, n] (+ c).
// Each thread computes up to 8 rows × 8 columns of c (ROWS rows, COLS vec4 column blocks) from vec4
// loads and keeps them in 16 named registers; no workgroup memory. On CPU adapters (lavapipe,
// SwiftShader) a storage load costs ~10× an FMA, so the block maximises FMAs per load; shared-memory
// tiling measured slower there. The block is written out by hand because SwiftShader keeps loops
// over private arrays as loops over memory (6× slower than this on the benchmark shapes).
// Decode-sized products use ROWS = m (1..8), COLS = 1: one thread covers the whole tiny m and the
// grid spreads over n. Blocks past ROWS/COLS are cut at pipeline creation (override constants).
// Layout (row-major; a f32, b f32 or f16 through the BType alias, c f32, accumulation f32):
//   a [batch, m, k] (TRANS_A: [batch, k, m]); b [batch, k, n] (TRANS_B: [batch, n, k]);
//   c [batch, m, n]. Batch strides are in vec4s; 0 shares an operand across the batch.
//   Needs n % 4 == 0, and k % 4 == 0 unless TRANS_A. TRANS_A needs ROWS = 8, !TRANS_B, and rows of
//   a padded to a_stride4 vec4s (m % 4 == 0, or the zero-padded copy from matmul-transpose.wgsl).
// Workgroup: WG_X × WG_Y threads (x over column blocks, y over row blocks);
//   grid (ceil(n / (4·COLS·WG_X)), ceil(m / (ROWS·WG_Y)), batch).

alias BType = f32;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ROWS: u32 = 8u;
override COLS: u32 = 2u;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  a_batch4: u32,
  b_batch4: u32,
  a_stride4: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4<BType>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

// acc + (one row of a, 4 k values) × (4 k-rows of b, or 4 n-rows of b when transposed).
fn mac(acc: vec4f, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  if (TRANS_B) {
    return acc + vec4f(dot(av, b0), dot(av, b1), dot(av, b2), dot(av, b3));
  }
  return acc + av.x * b0 + av.y * b1 + av.z * b2 + av.w * b3;
}

fn load_b(i: u32) -> vec4f {
  return vec4f(b[i]);
}

// Rows and columns past the end were computed from clamped loads; they are not stored.
fn store(batch: u32, row: u32, col4: u32, acc: vec4f) {
  let n4 = p.n / 4u;
  if (row < p.m && col4 < n4) {
    let ci = (batch * p.m + row) * n4 + col4;
    var out = p.alpha * acc;
    if (p.accumulate != 0u) {
      out += c[ci];
    }
    c[ci] = out;
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n4 = p.n / 4u;
  let col0 = gid.x * COLS;
  let row0 = gid.y * ROWS;
  let batch = gid.z;
  if (col0 >= n4 || row0 >= p.m) {
    return;
  }
  let a0 = batch * p.a_batch4;
  let b0 = batch * p.b_batch4;
  let c0 = col0;
  let c1 = min(col0 + 1u, n4 - 1u);
  var acc00 = vec4f();
  var acc01 = vec4f();
  var acc10 = vec4f();
  var acc11 = vec4f();
  var acc20 = vec4f();
  var acc21 = vec4f();
  var acc30 = vec4f();
  var acc31 = vec4f();
  var acc40 = vec4f();
  var acc41 = vec4f();
  var acc50 = vec4f();
  var acc51 = vec4f();
  var acc60 = vec4f();
  var acc61 = vec4f();
  var acc70 = vec4f();
  var acc71 = vec4f();
  if (TRANS_A) {
    // a [k, m]: one vec4 holds 4 rows at one k; outer products with b's row k.
    let m4 = p.a_stride4;
    let x0 = a0 + 2u * gid.y;
    let x1 = a0 + min(2u * gid.y + 1u, m4 - 1u);
    for (var kk = 0u; kk < p.k; kk++) {
      let lo = a[x0 + kk * m4];
      let hi = a[x1 + kk * m4];
      let q = load_b(b0 + kk * n4 + c0);
      let s = load_b(b0 + kk * n4 + c1);
      acc00 += lo.x * q;
      acc01 += lo.x * s;
      acc10 += lo.y * q;
      acc11 += lo.y * s;
      acc20 += lo.z * q;
      acc21 += lo.z * s;
      acc30 += lo.w * q;
      acc31 += lo.w * s;
      acc40 += hi.x * q;
      acc41 += hi.x * s;
      acc50 += hi.y * q;
      acc51 += hi.y * s;
      acc60 += hi.z * q;
      acc61 += hi.z * s;
      acc70 += hi.w * q;
      acc71 += hi.w * s;
    }
  } else {
    let k4 = p.k / 4u;
    let r0 = a0 + min(row0 + 0u, p.m - 1u) * k4;
    let r1 = a0 + min(row0 + 1u, p.m - 1u) * k4;
    let r2 = a0 + min(row0 + 2u, p.m - 1u) * k4;
    let r3 = a0 + min(row0 + 3u, p.m - 1u) * k4;
    let r4 = a0 + min(row0 + 4u, p.m - 1u) * k4;
    let r5 = a0 + min(row0 + 5u, p.m - 1u) * k4;
    let r6 = a0 + min(row0 + 6u, p.m - 1u) * k4;
    let r7 = a0 + min(row0 + 7u, p.m - 1u) * k4;
    for (var kk = 0u; kk < k4; kk++) {
      var q0: vec4f;
      var q1: vec4f;
      var q2: vec4f;
      var q3: vec4f;
      var s0: vec4f;
      var s1: vec4f;
      var s2: vec4f;
      var s3: vec4f;
      if (TRANS_B) {
        q0 = load_b(b0 + (c0 * 4u) * k4 + kk);
        q1 = load_b(b0 + (c0 * 4u + 1u) * k4 + kk);
        q2 = load_b(b0 + (c0 * 4u + 2u) * k4 + kk);
        q3 = load_b(b0 + (c0 * 4u + 3u) * k4 + kk);
      } else {
        q0 = load_b(b0 + (kk * 4u) * n4 + c0);
        q1 = load_b(b0 + (kk * 4u + 1u) * n4 + c0);
        q2 = load_b(b0 + (kk * 4u + 2u) * n4 + c0);
        q3 = load_b(b0 + (kk * 4u + 3u) * n4 + c0);
      }
      if (COLS > 1u) {
        if (TRANS_B) {
          s0 = load_b(b0 + (c1 * 4u) * k4 + kk);
          s1 = load_b(b0 + (c1 * 4u + 1u) * k4 + kk);
          s2 = load_b(b0 + (c1 * 4u + 2u) * k4 + kk);
          s3 = load_b(b0 + (c1 * 4u + 3u) * k4 + kk);
        } else {
          s0 = load_b(b0 + (kk * 4u) * n4 + c1);
          s1 = load_b(b0 + (kk * 4u + 1u) * n4 + c1);
          s2 = load_b(b0 + (kk * 4u + 2u) * n4 + c1);
          s3 = load_b(b0 + (kk * 4u + 3u) * n4 + c1);
        }
      }
      {
        let a0 = a[r0 + kk];
        acc00 = mac(acc00, a0, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc01 = mac(acc01, a0, s0, s1, s2, s3);
        }
      }
      if (ROWS > 1u) {
        let a1 = a[r1 + kk];
        acc10 = mac(acc10, a1, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc11 = mac(acc11, a1, s0, s1, s2, s3);
        }
      }
      if (ROWS > 2u) {
        let a2 = a[r2 + kk];
        acc20 = mac(acc20, a2, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc21 = mac(acc21, a2, s0, s1, s2, s3);
        }
      }
      if (ROWS > 3u) {
        let a3 = a[r3 + kk];
        acc30 = mac(acc30, a3, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc31 = mac(acc31, a3, s0, s1, s2, s3);
        }
      }
      if (ROWS > 4u) {
        let a4 = a[r4 + kk];
        acc40 = mac(acc40, a4, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc41 = mac(acc41, a4, s0, s1, s2, s3);
        }
      }
      if (ROWS > 5u) {
        let a5 = a[r5 + kk];
        acc50 = mac(acc50, a5, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc51 = mac(acc51, a5, s0, s1, s2, s3);
        }
      }
      if (ROWS > 6u) {
        let a6 = a[r6 + kk];
        acc60 = mac(acc60, a6, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc61 = mac(acc61, a6, s0, s1, s2, s3);
        }
      }
      if (ROWS > 7u) {
        let a7 = a[r7 + kk];
        acc70 = mac(acc70, a7, q0, q1, q2, q3);
        if (COLS > 1u) {
          acc71 = mac(acc71, a7, s0, s1, s2, s3);
        }
      }
    }
  }
  store(batch, row0 + 0u, col0, acc00);
  if (COLS > 1u) {
    store(batch, row0 + 0u, col0 + 1u, acc01);
  }
  if (ROWS > 1u) {
    store(batch, row0 + 1u, col0, acc10);
    if (COLS > 1u) {
      store(batch, row0 + 1u, col0 + 1u, acc11);
    }
  }
  if (ROWS > 2u) {
    store(batch, row0 + 2u, col0, acc20);
    if (COLS > 1u) {
      store(batch, row0 + 2u, col0 + 1u, acc21);
    }
  }
  if (ROWS > 3u) {
    store(batch, row0 + 3u, col0, acc30);
    if (COLS > 1u) {
      store(batch, row0 + 3u, col0 + 1u, acc31);
    }
  }
  if (ROWS > 4u) {
    store(batch, row0 + 4u, col0, acc40);
    if (COLS > 1u) {
      store(batch, row0 + 4u, col0 + 1u, acc41);
    }
  }
  if (ROWS > 5u) {
    store(batch, row0 + 5u, col0, acc50);
    if (COLS > 1u) {
      store(batch, row0 + 5u, col0 + 1u, acc51);
    }
  }
  if (ROWS > 6u) {
    store(batch, row0 + 6u, col0, acc60);
    if (COLS > 1u) {
      store(batch, row0 + 6u, col0 + 1u, acc61);
    }
  }
  if (ROWS > 7u) {
    store(batch, row0 + 7u, col0, acc70);
    if (COLS > 1u) {
      store(batch, row0 + 7u, col0 + 1u, acc71);
    }
  }
}
