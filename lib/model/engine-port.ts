import type { Atlantic } from './atlantic.js';
import type { ClassResolver } from './blueprint.js';
import type { Headwaters } from './headwaters.js';
import type { Stream } from './stream.js';

/** A drawn flow, as Andes hands it to an engine. */
export interface Drawing {
  hw: Headwaters<any>;
  streams: Stream[];
  atlantic: Atlantic | undefined;
}

/** What Andes needs of an engine (the Engine class implements it). */
export interface EnginePort {
  startFlow(drawing: Drawing): Promise<unknown>;
  readonly classes: ClassResolver;
}
