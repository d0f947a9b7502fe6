/**
 * A link can set the Hub endpoint (`?model.endpoint=…`), so a shared URL could point downloads at a
 * host the user never chose. Before the first download from an endpoint other than huggingface.co
 * the user is asked; an endpoint they accepted is not asked about again in this page's life.
 */
export const defaultHubEndpoint = "https://huggingface.co";

const accepted = new Set<string>([defaultHubEndpoint]);

const normalised = (endpoint: string) => endpoint.trim().replace(/\/+$/, "");

/** The question asked before downloading `repo` from a non-default `endpoint`. */
export function hubEndpointQuestion(endpoint: string, repo: string): string {
  let host = endpoint;
  try {
    host = new URL(endpoint).host;
  } catch {
    // Shown as given: the download itself will report the malformed URL.
  }
  return (
    `Download ${repo} from ${host}?\n\nThe Hub endpoint is ${normalised(endpoint)}, not huggingface.co. ` +
    "A link may have set it: continue only if you chose this server."
  );
}

/** True when downloads from `endpoint` may go ahead: the default, already accepted, or accepted now through `ask`. */
export function consentToHubEndpoint(endpoint: string, repo: string, ask: (question: string) => boolean): boolean {
  const key = normalised(endpoint);
  if (accepted.has(key)) return true;
  if (!ask(hubEndpointQuestion(endpoint, repo))) return false;
  accepted.add(key);
  return true;
}
