import Type, { type Static } from 'typebox';
import { Nullable } from './common.js';
import { TransactionSchema } from './transactions.js';

const ItemError = Type.Object({
  code: Type.String(),
  detail: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const BulkJobSchema = Type.Object(
  {
    id: Type.String({ examples: ['blk_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    status: Type.Union([Type.Literal('accepted'), Type.Literal('running'), Type.Literal('completed')], {
      description:
        'accepted: not started; running: items being queued or applied; completed: every item succeeded, failed, needs review or was refused.',
    }),
    total: Type.Integer(),
    submitted: Type.Integer({ description: 'Items the job has validated and claimed (queued, applied or refused).' }),
    succeeded: Type.Integer(),
    failed: Type.Integer({ description: 'Items refused (invalid, unsupported) or failed at the provider.' }),
    needs_review: Type.Integer(),
    pending: Type.Integer({ description: 'Items not yet submitted, queued or being sent.' }),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    results: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          status: Type.Integer({
            description: 'The HTTP status the item would have had on its own (201 applied, 202 queued, 4xx refused).',
          }),
          state: Type.Union(
            [
              Type.Literal('pending'),
              Type.Literal('queued'),
              Type.Literal('processing'),
              Type.Literal('succeeded'),
              Type.Literal('failed'),
              Type.Literal('needs_review'),
              Type.Literal('rejected'),
            ],
            {
              description:
                "pending: not yet submitted; rejected: refused before it was claimed (see error); else its transaction's status.",
            },
          ),
          replayed: Type.Boolean(),
          transaction: Type.Optional(TransactionSchema),
          error: Type.Optional(ItemError),
        },
        { additionalProperties: false },
      ),
      { description: 'One per submitted item, in order, with its transaction as it stands now.' },
    ),
  },
  { title: 'BulkJob', additionalProperties: false },
);
export type BulkView = Static<typeof BulkJobSchema>;
