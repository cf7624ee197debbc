// What the browser test's checks share: a failed check is a CheckFailed (its message is the
// reason), and the records of shopper events that the stand-in app proxy forwarded.

export class CheckFailed extends Error {}

export const check = (condition, message) => {
  if (!condition) throw new CheckFailed(message);
};

export const STEP_TIMEOUT_MS = 15000;

export const isEventsRecord = (record) => record.method === 'POST' && record.path === '/proxy/events';

/** The events of `type` in forwarded records, each with the record that carried it. */
export const eventsOf = (forwarded, type) => forwarded
  .filter(isEventsRecord)
  .flatMap((record) => (record.request_body?.events ?? []).map((event) => ({ event, record })))
  .filter(({ event }) => type === undefined || event.type === type);

/** Every events request was answered 2xx, and Kindred took each of its events. */
export function checkAccepted(forwarded) {
  const posts = forwarded.filter(isEventsRecord);
  for (const post of posts) {
    const sent = post.request_body?.events?.length ?? 0;
    const body = post.response_body ?? {};
    check(post.status >= 200 && post.status < 300, `Kindred answered events with ${post.status}: ${JSON.stringify(body)}`);
    check((body.rejected ?? []).length === 0, `Kindred rejected events: ${JSON.stringify(body.rejected)}`);
    check(body.accepted + body.duplicates === sent, `${sent} events sent, ${JSON.stringify(body)} answered`);
  }
  return posts;
}

/** How many events of each type the records carry. */
export const eventCounts = (forwarded) => eventsOf(forwarded)
  .reduce((counts, { event }) => ({ ...counts, [event.type]: (counts[event.type] ?? 0) + 1 }), {});
