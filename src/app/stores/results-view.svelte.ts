/**
 * The results list as it is shown: the files with a result, their counts per verdict, the filter in
 * effect and the filtered, ordered list. Computed once here and read by the list and by the detail
 * view (whose Previous / Next buttons walk the list as it is shown).
 */
import { summarize } from '../../core/result-summary';
import type { Result } from '../../core/result';
import { arrange, countFor, type ResultFilter, type ResultOrder } from '../results-view';
import { queue, type Entry } from './queue.svelte';

export type FinishedEntry = Entry & { result: Result };

/** What the person chose: the filter button pressed and the order. */
export const resultsView = $state({ filter: 'all' as ResultFilter, order: 'added' as ResultOrder });

/** Every file with a result (errors included), in the order added. */
const finished = $derived(queue.entries.filter((e): e is FinishedEntry => !!e.result && e.state !== 'cancelled'));
const summary = $derived(summarize(finished.map((e) => e.result)));
/** The filter in effect: one whose results were all cleared falls back to showing everything. */
const filter = $derived<ResultFilter>(countFor(summary, resultsView.filter) > 0 ? resultsView.filter : 'all');
const shown = $derived(arrange(finished, filter, resultsView.order));

/** Read-only views of the derived state above (Svelte does not export derived values directly). */
export const resultsList = {
  get finished() {
    return finished;
  },
  get summary() {
    return summary;
  },
  get filter() {
    return filter;
  },
  get shown() {
    return shown;
  },
};
