// The flow of the Dam crash tests, for the child program and the test process alike (a module
// without top-level await: the test process loads it as it loads lib/).
import { Andes, Dam, Headwaters, River, type Engine } from '../../lib/index.js';
import { journal } from './rivers.js';

export class Before extends River {
  static riverName = 'DamCrash.Before';
  async flow(hw: Headwaters) {
    journal(`before ${hw.requestId} ${process.pid}`);
  }
}

export class After extends River {
  static riverName = 'DamCrash.After';
  async flow(hw: Headwaters) {
    journal(`after ${hw.requestId} ${JSON.stringify(hw.get('go'))} ${process.pid}`);
  }
}

export const damClasses = [Before, After];
export const damFlow = (engine: Engine, requestId: string) =>
  new Andes(engine).drawHeadwaters(new Headwaters(requestId)).drawStream(new Before(), new Dam('go'), new After());
