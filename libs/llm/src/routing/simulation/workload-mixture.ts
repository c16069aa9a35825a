/**
 * The request kinds of the router's simulated workload and their shares (the "documented mixture", docs/ml.md,
 * "Model router"). The shares follow the topic shares of consumer chat messages reported by Chatterji, Cunningham,
 * Deming, Hitzig, Ong, Shan and Wadman, "How People Use ChatGPT", NBER Working Paper 34255 (September 2025):
 * Practical Guidance, Seeking Information and Writing together about 78 % of messages, computer programming 4.2 %,
 * mathematical calculation and data analysis about 3.4 %, self-expression (chit-chat, relationships, role-play)
 * about 4.3 %; multimedia and unclassified messages are left out (the router serves text). Splitting Practical
 * Guidance into how-to, explanation and planning, and Writing into requests about a text the user gives (two thirds:
 * the paper's editing, critiquing, summarising and translating) and drafting from scratch (one third), is this
 * project's mapping. Never tuned to the router: the shares were fixed before any replay ran.
 */
export type WorkloadKind =
  'factual' | 'how_to' | 'explain' | 'planning' | 'doc_qa' | 'summarise' | 'drafting' | 'code' | 'math' | 'chat';

export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  'factual',
  'how_to',
  'explain',
  'planning',
  'doc_qa',
  'summarise',
  'drafting',
  'code',
  'math',
  'chat',
];

/** Percent of messages in the study (before renormalising over the kinds kept). */
const STUDY_SHARES: Readonly<Record<WorkloadKind, number>> = {
  // Seeking Information (specific information, products, recipes).
  factual: 21.3,
  // Practical Guidance (28.3): how-to advice and ideation, tutoring and teaching, planning.
  how_to: 12,
  explain: 11.3,
  planning: 5,
  // Writing (28.1): two thirds about the user's own text (a document), one third drafted from scratch.
  doc_qa: 9.3,
  summarise: 9.4,
  drafting: 9.4,
  // Technical Help: computer programming; mathematical calculation + data analysis.
  code: 4.2,
  math: 3.4,
  // Self-Expression: greetings and chit-chat, relationships, games and role-play.
  chat: 4.3,
};

const TOTAL = Object.values(STUDY_SHARES).reduce((a, b) => a + b, 0);

/** The documented mixture: each kind's share of requests (sums to 1). */
export const WORKLOAD_MIXTURE: Readonly<Record<WorkloadKind, number>> = Object.fromEntries(
  WORKLOAD_KINDS.map((k) => [k, STUDY_SHARES[k] / TOTAL]),
) as Record<WorkloadKind, number>;

export const WORKLOAD_MIXTURE_SOURCE =
  'Chatterji et al., "How People Use ChatGPT", NBER Working Paper 34255 (2025): topic shares of consumer messages';
