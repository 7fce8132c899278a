/**
 * Switching between the site's models and models from a folder on this device (Settings, or a
 * dropped folder that holds an export): the switch itself, the settings reset to the new models'
 * default ensemble, the load started, and what went wrong, shared by every place that offers it.
 */
import type { ErrorInfo } from '../../lib/classifier-types';
import type { FolderFile } from '../../lib/model-store';
import { readyClassifier, useFolderModels, useSiteModels } from './pipeline.svelte';
import { saveSettings, settings, settingsSnapshot } from './settings.svelte';

export const modelsSource: { switching: boolean; error: string | null } = $state({ switching: false, error: null });

async function switchModels(how: () => Promise<void>): Promise<boolean> {
  modelsSource.switching = true;
  modelsSource.error = null;
  try {
    await how();
    // The ensembles are the new manifest's: start from its default.
    settings.ensemble = undefined;
    saveSettings();
    readyClassifier(settingsSnapshot()).catch(() => {});
    return true;
  } catch (error) {
    modelsSource.error = (error as ErrorInfo).message ?? String(error);
    return false;
  } finally {
    modelsSource.switching = false;
  }
}

/** Runs the models of a picked or dropped folder; false (and `error` set) when the folder is not a usable export. */
export function switchToFolder(files: FolderFile[]): Promise<boolean> {
  return switchModels(() => useFolderModels(files));
}

export function switchToSite(): Promise<boolean> {
  return switchModels(useSiteModels);
}
