// A trip booked as a saga: the flight and the hotel are booked, the car cannot be, so the engine
// compensates what succeeded (the hotel, then the flight) before Atlantic.fail runs.
// Run: npm run example:saga (docs/compensation.md)
import { Andes, Atlantic, Engine, FatalError, Headwaters, ParallelRiver, River, type FlowError, type RiverAttr, type RiverContext } from 'vastflow';

/** A fake booking service: bookings in memory, and a few refusals. */
class BookingService {
  readonly #bookings = new Map<string, string>();
  #next = 1;
  constructor(
    readonly name: string,
    readonly soldOut = false,
  ) {}

  async book(what: string): Promise<string> {
    await new Promise((r) => setTimeout(r, 5));
    if (this.soldOut) throw new FatalError(`${this.name}: no ${what} left`);
    const id = `${this.name.toUpperCase()}-${this.#next++}`;
    this.#bookings.set(id, what);
    return id;
  }

  async cancel(id: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    this.#bookings.delete(id); // cancelling twice is harmless: compensations may run again after a crash
  }

  get open(): number {
    return this.#bookings.size;
  }
}

const airline = new BookingService('flight');
const hotels = new BookingService('hotel');
const cars = new BookingService('car', true);

export class BookFlight extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.retryInterval = '50ms';
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    hw.put('flightId', await airline.book(`seat to ${hw.getString('city')}`));
    console.log(`booked flight ${hw.getString('flightId')}`);
  }

  async compensate(hw: Headwaters, ctx: RiverContext) {
    await airline.cancel(hw.getString('flightId'));
    console.log(`cancelled flight ${hw.getString('flightId')} (attempt ${ctx.attempt})`);
  }
}

export class BookHotel extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    hw.put('hotelId', await hotels.book(`room in ${hw.getString('city')}`));
    console.log(`booked hotel ${hw.getString('hotelId')}`);
  }

  async compensate(hw: Headwaters) {
    await hotels.cancel(hw.getString('hotelId'));
    console.log(`cancelled hotel ${hw.getString('hotelId')}`);
  }
}

export class BookCar extends River {
  async flow(hw: Headwaters) {
    console.log('booking a car …');
    hw.put('carId', await cars.book(`car in ${hw.getString('city')}`));
  }
}

export class TripOutcome extends Atlantic {
  async success(hw: Headwaters) {
    console.log(`trip booked: ${hw.getString('flightId')}, ${hw.getString('hotelId')}, ${hw.getString('carId')}`);
  }

  async fail(_hw: Headwaters, error: FlowError) {
    // runs after every compensation; error.compensation lists those that failed
    console.log(`trip not booked: ${error.message}; compensations that failed: ${error.compensation?.length ?? 0}`);
  }
}

const engine = await Engine.open({ store: 'memory' });
engine.on('river:compensate', (e) => console.log(`river:compensate ${e.river} ${e.status}`));

const run = await new Andes(engine)
  .drawHeadwaters(new Headwaters('trip-42').put('city', 'Lisbon'))
  .drawStream(new ParallelRiver().append(new BookFlight()).append(new BookHotel()))
  .drawStream(new BookCar())
  .drawAtlantic(new TripOutcome())
  .start();
const outcome = await run.result();

const snapshot = await engine.get(run.id);
for (const s of snapshot!.streams) console.log(`${s.id.padEnd(6)} ${s.name.padEnd(13)} ${s.state}`);
console.log(`flow ${outcome.status}: ${outcome.error?.code}; open bookings: flights ${airline.open}, hotels ${hotels.open}`);
await engine.close();
