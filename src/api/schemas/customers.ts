import Type from 'typebox';
import { CustomerFields, CustomerResourceSchema, PageMeta } from '../../domain/customers.js';
import { ConnectionId, GATEWAY_ID_PATTERN } from '../../domain/fields.js';

export const CustomerList = Type.Object(
  { data: Type.Array(CustomerResourceSchema), meta: PageMeta },
  { title: 'CustomerList', additionalProperties: false },
);

export const BulkCreateCustomersBody = Type.Object(
  {
    connection: ConnectionId,
    program_id: Type.String({
      pattern: GATEWAY_ID_PATTERN,
      maxLength: 233,
      description: 'The program (Coupontools loyalty card) the customers join.',
    }),
    customers: Type.Array(Type.Object({ ...CustomerFields }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 100,
    }),
  },
  {
    title: 'BulkCreateCustomersRequest',
    additionalProperties: false,
    examples: [
      {
        connection: 'ct',
        program_id: 'ct:1001',
        customers: [{ first_name: 'Ada', email: 'ada@example.com' }, { first_name: 'Alan' }],
      },
    ],
  },
);
