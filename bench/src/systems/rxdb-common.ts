/** RxDB (open-source core): the collection schema both sides use. */
export const rxSchema = {
  version: 0,
  primaryKey: 'uid',
  type: 'object',
  properties: {
    uid: { type: 'string', maxLength: 64 },
    title: { type: 'string' },
    body: { type: 'string' },
    priority: { type: 'number' },
    done: { type: 'boolean' },
    tag: { type: 'string' },
  },
  required: ['uid', 'title', 'body', 'priority', 'done', 'tag'],
} as const
