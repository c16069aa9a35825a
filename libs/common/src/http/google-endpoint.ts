/** Vertex AI's multi-region locations, served from a regional endpoint (REP) of their own. */
const MULTI_REGIONAL_LOCATIONS = new Set(['us', 'eu']);

/**
 * Google's endpoint for a mode, as @google/genai picks it when it is given none (a spec holds the two together).
 * Always passed explicitly: given none, the SDK first takes `GOOGLE_VERTEX_BASE_URL` / `GOOGLE_GEMINI_BASE_URL` from
 * the process environment, which would send every prompt and credential to a host no setting of ours names. For the
 * LLM adapter and the embeddings adapter alike.
 */
export function googleEndpoint(mode: 'vertex' | 'gemini', location: string): string {
  if (mode === 'gemini') return 'https://generativelanguage.googleapis.com/';
  if (location === 'global') return 'https://aiplatform.googleapis.com/';
  if (MULTI_REGIONAL_LOCATIONS.has(location)) return `https://aiplatform.${location}.rep.googleapis.com/`;
  return `https://${location}-aiplatform.googleapis.com/`;
}
