/**
 * The shape of DBS list answers, checked with zod before anything trusts
 * them. Strict on the envelope (paging numbers and the item array decide
 * whether a snapshot is complete), lenient on items (normalise.ts does that).
 */
import { z } from 'zod';
import { invalidResponse } from './errors.js';

/** A non-negative integer that DBS may send as a number or a numeric string. */
const count = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
  z.number({ error: 'must be a number' }).int('must be a whole number').nonnegative('must not be negative'),
);

const optionalCount = z.preprocess((value) => (value === null || value === '' ? undefined : value), count.optional());

const envelope = {
  RequestId: z.string().optional().catch(undefined),
  PageNum: optionalCount,
  PageSize: optionalCount,
  // Optional: the SDK models do not promise them; without them the pager pages until an empty or short page.
  TotalPages: optionalCount,
  TotalElements: optionalCount,
};

/** Items wrapper: an array is required (an empty list is `[]`), except that an empty plan may omit it. */
function itemsOf(field: string) {
  return z
    .object({ [field]: z.array(z.unknown(), { error: 'must be an array' }).nullish() } as Record<string, z.ZodType>, {
      error: `must be an object holding ${field}`,
    })
    .loose();
}

const downloadTaskListBody = z.object({ ...envelope, Items: itemsOf('BackupSetDownloadTaskDetail').nullish() }).loose();

const backupPlanListBody = z.object({ ...envelope, Items: itemsOf('BackupPlanDetail').nullish() }).loose();

/** A validated list answer: the envelope plus the raw items. */
export interface ListBody {
  readonly requestId?: string;
  readonly pageNum?: number;
  readonly pageSize?: number;
  /** Absent when DBS did not send it. */
  readonly totalPages?: number;
  /** Absent when DBS did not send it. */
  readonly totalElements?: number;
  readonly items: readonly unknown[];
}

/** Parses a DescribeBackupSetDownloadTaskList answer; throws an invalid-response `DbsApiError` naming the field. */
export function parseDownloadTaskListBody(body: unknown): ListBody {
  return parseList(downloadTaskListBody, body, 'BackupSetDownloadTaskDetail');
}

/** Parses a DescribeBackupPlanList answer; throws an invalid-response `DbsApiError` naming the field. */
export function parseBackupPlanListBody(body: unknown): ListBody {
  return parseList(backupPlanListBody, body, 'BackupPlanDetail');
}

function parseList(schema: z.ZodType, body: unknown, itemsField: string): ListBody {
  const requestId = body && typeof body === 'object' ? (body as { RequestId?: unknown }).RequestId : undefined;
  const details = { requestId: typeof requestId === 'string' ? requestId.slice(0, 128) : undefined };
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : 'body';
    throw invalidResponse(`${path} ${issue?.message ?? 'is invalid'}`, details);
  }
  const parsed = result.data as {
    RequestId?: string;
    PageNum?: number;
    PageSize?: number;
    TotalPages?: number;
    TotalElements?: number;
    Items?: Record<string, unknown[] | null | undefined> | null;
  };
  const items = parsed.Items?.[itemsField];
  if (!items) {
    // DBS omits the wrapper for an empty plan; anywhere else a missing array would hide tasks.
    // Without TotalElements, a missing array is an empty page (which ends paging).
    if (parsed.TotalElements === 0 || parsed.TotalElements === undefined) return { ...envelopeOf(parsed), items: [] };
    throw invalidResponse(`Items.${itemsField} is missing while TotalElements is ${parsed.TotalElements}`, details);
  }
  return { ...envelopeOf(parsed), items };
}

function envelopeOf(parsed: { RequestId?: string; PageNum?: number; PageSize?: number; TotalPages?: number; TotalElements?: number }) {
  const out: { requestId?: string; pageNum?: number; pageSize?: number; totalPages?: number; totalElements?: number } = {};
  if (parsed.TotalPages !== undefined) out.totalPages = parsed.TotalPages;
  if (parsed.TotalElements !== undefined) out.totalElements = parsed.TotalElements;
  if (parsed.RequestId) out.requestId = parsed.RequestId;
  if (parsed.PageNum !== undefined) out.pageNum = parsed.PageNum;
  if (parsed.PageSize !== undefined) out.pageSize = parsed.PageSize;
  return out;
}
