import type { DecisionRecord } from '../DecisionRecord.js';

/**
 * The rule text of a decision, in words that match its direction. The heuristic's own rule
 * compares the target with the connected workers; the recommendation compares it with the plan,
 * so after a restart, an adoption or a raised minimum the two can point opposite ways (a
 * scale-up whose heuristic said "scale-down: keep every worker…"). The heuristic's text is kept
 * when it agrees with the direction, and replaced by the plan/target comparison when it does not.
 * In manual mode the rule says so, with the plan it moves from.
 */
export function decisionRule(r: DecisionRecord): string {
  const rule = String(r.explanation.rule ?? '');
  const plan = r.inputs?.plan;
  if (r.mode === 'manual') {
    const n = r.safeTarget;
    const from = plan !== undefined ? ` (the plan is ${plan})` : '';
    switch (r.recommendation.status) {
      case 'up':
        return `manual: scale(${n}) asks for more workers${from}`;
      case 'down':
        return `manual: scale(${n}) asks for fewer workers${from}`;
      default:
        return rule;
    }
  }
  const capped = (r.explanation.bounds as { cappedBy?: string } | undefined)?.cappedBy;
  const target = `${r.safeTarget}${capped ? `, ${capped === 'minimum' ? 'raised to the minimum' : `capped by ${capped}`}` : ''}`;
  switch (r.recommendation.status) {
    case 'up':
      return rule.startsWith('scale-up') ? rule : `scale-up: the plan${plan !== undefined ? ` (${plan})` : ''} is below the target (${target})`;
    case 'down':
      return rule.startsWith('scale-down') ? rule : `scale-down: the plan${plan !== undefined ? ` (${plan})` : ''} is above the target (${target})`;
    default:
      return rule;
  }
}
