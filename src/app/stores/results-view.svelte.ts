/**
 * The results list's filter and order, shared by the list and the detail view (whose Previous /
 * Next buttons walk the list as it is shown).
 */
import { summarize } from '../../core/result-summary';
import type { Result } from '../../core/result';
import { arrange, countFor, type ResultFilter, type ResultOrder } from '../results-view';
import { queue, type Entry } from './queue.svelte';

export type FinishedEntry = Entry & { result: Result };

export const resultsView = $state({ filter: 'all' as ResultFilter, order: 'added' as ResultOrder });

/** Every file with a result (errors included), in the order added. */
export function finishedEntries(): FinishedEntry[] {
  return queue.entries.filter((e): e is FinishedEntry => !!e.result && e.state !== 'cancelled');
}

/** The filter in effect: one whose results were all cleared falls back to showing everything. */
export function effectiveFilter(finished: readonly FinishedEntry[]): ResultFilter {
  return countFor(summarize(finished.map((e) => e.result)), resultsView.filter) > 0 ? resultsView.filter : 'all';
}

/** The results as the list shows them: filtered and ordered. */
export function shownEntries(finished: readonly FinishedEntry[] = finishedEntries()): FinishedEntry[] {
  return arrange(finished, effectiveFilter(finished), resultsView.order);
}
