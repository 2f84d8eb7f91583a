/**
 * "The newest answer for the newest inputs" (the create form's pre-launch report).
 *
 * Every change of the inputs calls `changed()`; a request takes a `ticket()` when it starts. Its
 * answer stands for what is on screen only while `current()`: no change of the inputs and no
 * newer request since it was asked. A request counter alone is not enough: while a debounced
 * request for the new inputs has not started yet, the older answer would look like the newest.
 */
export function latestGate() {
  let version = 0
  let issued = 0
  return {
    changed(): void { version++ },
    ticket(): { current: () => boolean } {
      const mine = ++issued
      const asked = version
      return { current: () => mine === issued && asked === version }
    },
  }
}
