/**
 * The page's Content-Security-Policy, served as a header by the preview server (scripts/start.sh)
 * and written into the built index.html as a meta tag. No inline script and no eval (the WGSL,
 * tokenizer and template engines need neither; `'wasm-unsafe-eval'` is not granted either).
 * Connections go to the page's origin and the Hugging Face Hub only: huggingface.co, its
 * *.huggingface.co and *.hf.co download hosts (LFS and Xet storage redirect there), and a mirror on
 * this machine (127.0.0.1 / localhost, any port). A Hub endpoint elsewhere is refused by the browser;
 * add its origin to `hubOrigins` to allow it.
 */
export const hubOrigins = [
  "https://huggingface.co",
  "https://*.huggingface.co",
  "https://*.hf.co",
  "http://127.0.0.1:*",
  "http://localhost:*",
] as const;

const directives: [string, ...string[]][] = [
  ["default-src", "'self'"],
  ["script-src", "'self'"],
  ["worker-src", "'self'"],
  ["connect-src", "'self'", ...hubOrigins],
  // Chart downloads draw the SVG into an <img> from a blob: or data: URL.
  ["img-src", "'self'", "data:", "blob:"],
  // Inline styles only (the kernel self-test page's <style>, style attributes in generated SVG); they cannot run code.
  ["style-src", "'self'", "'unsafe-inline'"],
  ["font-src", "'self'"],
  ["object-src", "'none'"],
  ["base-uri", "'none'"],
  ["form-action", "'none'"],
];

const join = (list: [string, ...string[]][]) => list.map((d) => d.join(" ")).join("; ");

/** For the <meta http-equiv> tag (browsers ignore frame-ancestors there, and warn about it). */
export const contentSecurityPolicyMeta = join(directives);

/** For the HTTP header, which can also forbid framing the page. */
export const contentSecurityPolicyHeader = join([...directives, ["frame-ancestors", "'none'"]]);
