import { readFileSync } from 'node:fs';
import { previousTurnOf } from './previous-turn';
import type { QualityInput } from './quality.types';

/** One row of the everyday-traffic probe (`data/quality-everyday/probe.jsonl`): what a chat product sends. */
export interface EverydayProbeRow {
  kind: string;
  /** 1: a careful human would call the answer good; 0: bad. */
  label: number;
  endpoint: 'chat' | 'qa' | 'reason';
  /** A single-turn question, or */
  question?: string;
  /** a conversation (`/v1/chat/completions` messages). */
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
  answer: string;
  document?: string;
}

export function readEverydayProbe(path: string): EverydayProbeRow[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EverydayProbeRow);
}

/**
 * The scorer's input for a probe row, as the service builds it: a conversation's question is what
 * `ChatRequestMapper` passes as `userText` (its last user turn), and its previous exchange what `CallAssessor` passes
 * as `previousTurn` (`previousTurnOf`).
 */
export function probeInput(row: EverydayProbeRow): QualityInput {
  const messages = row.messages ?? [{ role: 'user' as const, content: row.question ?? '' }];
  const users = messages.filter((m) => m.role === 'user');
  const previousTurn = previousTurnOf(messages);
  return {
    endpoint: row.endpoint,
    question: users[users.length - 1]?.content ?? '',
    answer: row.answer,
    ...(row.document === undefined ? {} : { document: row.document }),
    finishReason: 'stop',
    safetyBlocked: false,
    ...(previousTurn === undefined ? {} : { previousTurn }),
  };
}
