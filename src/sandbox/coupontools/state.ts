/**
 * In-memory state of the Coupontools v4 loyalty simulator: programs ("loyalty cards"), their users
 * ("stats") with stamps and rewards, and sent push notifications. Plain maps, re-seeded on reset.
 * Nothing here speaks HTTP; routes.ts validates the wire and calls these operations.
 */

export type ProgramType = 'stamp' | 'membership';

export interface Program {
  id: number;
  code: string;
  name: string;
  domain: string;
  type: ProgramType;
  /** Stamp programs only: stamps per reward (the counter rolls over when reached). */
  stampsRequired: number | null;
  rewardName: string | null;
}

export interface Reward {
  id: number;
  name: string;
  status: 'available' | 'used';
  earned_at: string;
  used_at: string | null;
}

export const USER_FIELDS = [
  'first_name',
  'last_name',
  'address',
  'zip',
  'city',
  'phone',
  'email',
  'custom_1',
  'custom_2',
  'custom_3',
  'custom_4',
  'custom_5',
  'custom_6',
  'custom_7',
  'custom_8',
] as const;
export type UserField = (typeof USER_FIELDS)[number];
export type UserData = Partial<Record<UserField, string | null>>;

export interface User {
  id: number;
  loyaltyCardId: number;
  data: Record<UserField, string | null>;
  stamps: number;
  stampsTotal: number;
  rewards: Reward[];
  voided: boolean;
  voidedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PushNotification {
  id: number;
  loyalty_card_id: number;
  message: string;
  recipient_stat_ids: number[];
  recipients: number;
  created_at: string;
}

/** Stable seed ids (documented in simulator.ts and exported through `seed`). */
export const SEED = {
  stampCardId: 1001,
  stampCardCode: 'ndoh57',
  membershipCardId: 1002,
  membershipCardCode: 'mb7k2q',
  stampsRequired: 10,
  /** 12 stamps collected: 1 available reward (id 90001) and 2 stamps on the counter. */
  userWithRewardId: 50001,
  availableRewardId: 90001,
  /** No stamps, no rewards. */
  freshUserId: 50002,
  /** Voided: cannot get stamps or use rewards; hidden from lists unless include_voided=true. */
  voidedUserId: 50003,
} as const;

const emptyData = (): Record<UserField, string | null> =>
  Object.fromEntries(USER_FIELDS.map((f) => [f, null])) as Record<UserField, string | null>;

export class CoupontoolsState {
  programs = new Map<number, Program>();
  users = new Map<number, User>();
  notifications: PushNotification[] = [];
  private nextProgramId = 0;
  private nextUserId = 0;
  private nextRewardId = 0;
  private nextPushId = 0;

  constructor() {
    this.seed();
  }

  /** Restores the documented seed; every earlier change is forgotten. */
  seed(): void {
    this.programs.clear();
    this.users.clear();
    this.notifications = [];
    this.nextProgramId = 1003;
    this.nextUserId = 50004;
    this.nextRewardId = 90002;
    this.nextPushId = 70001;
    const domain = 'sandbox.coupontools.com';
    this.programs.set(SEED.stampCardId, {
      id: SEED.stampCardId,
      code: SEED.stampCardCode,
      name: 'Coffee Stamp Card',
      domain,
      type: 'stamp',
      stampsRequired: SEED.stampsRequired,
      rewardName: 'Free coffee',
    });
    this.programs.set(SEED.membershipCardId, {
      id: SEED.membershipCardId,
      code: SEED.membershipCardCode,
      name: 'VIP Membership',
      domain,
      type: 'membership',
      stampsRequired: null,
      rewardName: null,
    });
    const at = '2024-03-01T09:00:00.000Z';
    const mk = (id: number, data: UserData, extra: Partial<User>): User => ({
      id,
      loyaltyCardId: SEED.stampCardId,
      data: { ...emptyData(), ...data },
      stamps: 0,
      stampsTotal: 0,
      rewards: [],
      voided: false,
      voidedAt: null,
      createdAt: at,
      updatedAt: at,
      ...extra,
    });
    this.users.set(
      SEED.userWithRewardId,
      mk(
        SEED.userWithRewardId,
        { first_name: 'Alice', last_name: 'Martens', email: 'alice@example.com', phone: '+32470000001', city: 'Gent' },
        {
          stamps: 2,
          stampsTotal: 12,
          updatedAt: '2024-03-10T12:00:00.000Z',
          rewards: [
            {
              id: SEED.availableRewardId,
              name: 'Free coffee',
              status: 'available',
              earned_at: '2024-03-10T12:00:00.000Z',
              used_at: null,
            },
          ],
        },
      ),
    );
    this.users.set(
      SEED.freshUserId,
      mk(SEED.freshUserId, { first_name: 'Bram', last_name: 'Peeters', email: 'bram@example.com' }, {}),
    );
    this.users.set(
      SEED.voidedUserId,
      mk(
        SEED.voidedUserId,
        { first_name: 'Chloé', last_name: 'Dubois', email: 'chloe@example.com' },
        {
          stamps: 4,
          stampsTotal: 4,
          voided: true,
          voidedAt: '2024-03-05T08:00:00.000Z',
          updatedAt: '2024-03-05T08:00:00.000Z',
        },
      ),
    );
  }

  program(id: number): Program | undefined {
    return this.programs.get(id);
  }

  /** The user only when it belongs to that program (another program's user is "not found"). */
  user(programId: number, userId: number): User | undefined {
    const u = this.users.get(userId);
    return u && u.loyaltyCardId === programId ? u : undefined;
  }

  usersOf(programId: number): User[] {
    return [...this.users.values()].filter((u) => u.loyaltyCardId === programId).sort((a, b) => a.id - b.id);
  }

  copyProgram(source: Program, name: string | undefined): Program {
    const id = this.nextProgramId++;
    // Deterministic 6-character code so tests and docs stay reproducible.
    const code = `cp${id.toString(36).padStart(4, '0')}`.slice(-6);
    const copy: Program = { ...source, id, code, name: name ?? `Copy of ${source.name}`.slice(0, 50) };
    this.programs.set(id, copy);
    return copy;
  }

  createUser(programId: number, data: UserData): User {
    const now = new Date().toISOString();
    const u: User = {
      id: this.nextUserId++,
      loyaltyCardId: programId,
      data: { ...emptyData(), ...data },
      stamps: 0,
      stampsTotal: 0,
      rewards: [],
      voided: false,
      voidedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    this.users.set(u.id, u);
    return u;
  }

  updateUser(u: User, data: UserData): void {
    Object.assign(u.data, data);
    u.updatedAt = new Date().toISOString();
  }

  /** Adds stamps; each time the counter reaches stamps_required a reward is earned and it rolls over. */
  addStamps(p: Program, u: User, amount: number): Reward[] {
    const required = p.stampsRequired ?? 1;
    const now = new Date().toISOString();
    const total = u.stamps + amount;
    const earned: Reward[] = [];
    for (let i = 0; i < Math.floor(total / required); i++) {
      earned.push({
        id: this.nextRewardId++,
        name: p.rewardName ?? 'Reward',
        status: 'available',
        earned_at: now,
        used_at: null,
      });
    }
    u.stamps = total % required;
    u.stampsTotal += amount;
    u.rewards.push(...earned);
    u.updatedAt = now;
    return earned;
  }

  useRewards(u: User, rewards: Reward[]): void {
    const now = new Date().toISOString();
    for (const r of rewards) {
      r.status = 'used';
      r.used_at = now;
    }
    u.updatedAt = now;
  }

  voidUser(u: User): void {
    const now = new Date().toISOString();
    u.voided = true;
    u.voidedAt = now;
    u.updatedAt = now;
  }

  deleteUser(u: User): void {
    this.users.delete(u.id);
  }

  push(programId: number, message: string, ids: number[]): PushNotification {
    const n: PushNotification = {
      id: this.nextPushId++,
      loyalty_card_id: programId,
      message,
      recipient_stat_ids: ids,
      recipients: ids.length,
      created_at: new Date().toISOString(),
    };
    this.notifications.push(n);
    return n;
  }

  snapshot(): unknown {
    return {
      programs: [...this.programs.values()],
      users: [...this.users.values()],
      notifications: this.notifications,
    };
  }
}

/** The wire shape of a program (the list and copy answers). */
export const programBody = (p: Program) => ({ id: p.id, code: p.code, name: p.name, domain: p.domain, type: p.type });

/** The wire shape of a user ("stat"). Membership programs have no stamps: those fields are null. */
export function userBody(p: Program, u: User) {
  const stamp = p.type === 'stamp';
  return {
    id: u.id,
    loyalty_card_id: u.loyaltyCardId,
    ...u.data,
    stamps: stamp ? u.stamps : null,
    stamps_total: stamp ? u.stampsTotal : null,
    stamps_required: stamp ? p.stampsRequired : null,
    rewards: u.rewards.map((r) => ({ ...r })),
    voided: u.voided,
    voided_at: u.voidedAt,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}
