import { describe, expect, it } from "vitest";
import { contentSecurityPolicyHeader, contentSecurityPolicyMeta, hubOrigins } from "../../src/content-security-policy";
import { consentToHubEndpoint, defaultHubEndpoint } from "../../src/ui/hub-endpoint-consent";

describe("Hub endpoint consent", () => {
  it("asks once before the first download from an endpoint other than huggingface.co, and never for the default", () => {
    const asked: string[] = [];
    const answer = (yes: boolean) => (q: string) => {
      asked.push(q);
      return yes;
    };
    expect(consentToHubEndpoint(defaultHubEndpoint, "a/b", answer(false))).toBe(true);
    expect(consentToHubEndpoint("https://huggingface.co/", "a/b", answer(false))).toBe(true);
    expect(asked).toEqual([]);
    expect(consentToHubEndpoint("https://evil.example:8443/x/", "a/b", answer(false))).toBe(false);
    expect(asked[0]).toMatch(/^Download a\/b from evil\.example:8443\?/);
    expect(asked[0]).toContain("https://evil.example:8443/x, not huggingface.co");
    expect(consentToHubEndpoint("https://evil.example:8443/x", "a/b", answer(true))).toBe(true);
    expect(consentToHubEndpoint("https://evil.example:8443/x/", "c/d", answer(false))).toBe(true);
    expect(asked).toHaveLength(2);
  });
});

describe("Content-Security-Policy", () => {
  const directive = (policy: string, name: string) =>
    policy
      .split("; ")
      .find((d) => d.startsWith(`${name} `))
      ?.split(" ")
      .slice(1);

  it("allows scripts from the page only (no inline script, no eval) and connections to the page and the Hub", () => {
    for (const policy of [contentSecurityPolicyMeta, contentSecurityPolicyHeader]) {
      expect(directive(policy, "script-src")).toEqual(["'self'"]);
      expect(directive(policy, "default-src")).toEqual(["'self'"]);
      expect(directive(policy, "object-src")).toEqual(["'none'"]);
      expect(directive(policy, "connect-src")).toEqual(["'self'", ...hubOrigins]);
      expect(policy).not.toMatch(/unsafe-eval|wasm-unsafe-eval/);
    }
    // A meta tag cannot carry frame-ancestors (browsers warn and ignore it); the header does.
    expect(directive(contentSecurityPolicyMeta, "frame-ancestors")).toBeUndefined();
    expect(directive(contentSecurityPolicyHeader, "frame-ancestors")).toEqual(["'none'"]);
  });
});
