import Type, { type Static } from 'typebox';
import { PageMeta } from '../../domain/customers.js';
import { CardId, ConnectionId, ProgramId } from '../../domain/fields.js';
import { ProgramSchema } from '../../domain/programs.js';

export const ProgramList = Type.Object(
  { data: Type.Array(ProgramSchema), meta: PageMeta },
  { title: 'ProgramList', additionalProperties: false },
);

export const CopyProgramBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })) },
  { title: 'CopyProgramRequest', additionalProperties: false, examples: [{ name: 'Summer stamp card' }] },
);

export const NotificationBody = Type.Object(
  {
    connection: ConnectionId,
    message: Type.String({
      minLength: 1,
      maxLength: 1000,
      pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]+$',
    }),
    card_ids: Type.Optional(
      Type.Array(CardId, {
        minItems: 1,
        maxItems: 1000,
        description: 'Only these cards; without it and without program_id, every card of the connection.',
      }),
    ),
    program_id: Type.Optional({ ...ProgramId, description: 'Every card of this program.' }),
    scheduled_at: Type.Optional(
      Type.String({ format: 'date-time', description: 'Send later, where the provider supports it (Highlight).' }),
    ),
  },
  {
    title: 'NotificationRequest',
    additionalProperties: false,
    examples: [{ connection: 'hl', program_id: 'hl:103', message: 'Double stamps this weekend!' }],
  },
);
export type NotificationBody = Static<typeof NotificationBody>;
