/**
 * What the simulator puts on the wire: task and plan items, the response
 * envelope, gateway error bodies. With quirks on (the default) tasks carry
 * the odd values real responses contain (shared/reference/dbs-api.md,
 * "Values seen in the wild"), picked deterministically per task.
 */
import { randomUUID } from 'node:crypto';
import { type SimPlan, type SimTask, taskSeq, toPlainTask } from './world.js';

export const HOST_ID = 'dbs-api.cn-hangzhou.aliyuncs.com';

export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

/** Gateway error body `{RequestId, HostId, Code, Message, Recommend}`. */
export function gatewayError(requestId: string, code: string, message: string): Record<string, string> {
  return {
    RequestId: requestId,
    HostId: HOST_ID,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Dbs&requestId=${requestId}`,
  };
}

/** DBS business error: HTTP 200 (usually), `Success: false`, no `Code`. */
export function businessError(requestId: string, errCode: string, errMessage: string, httpStatus = 200): Record<string, unknown> {
  return { RequestId: requestId, Success: false, ErrCode: errCode, ErrMessage: errMessage, HttpStatusCode: httpStatus };
}

export function pageEnvelope(
  requestId: string,
  itemsKey: string,
  items: unknown[],
  page: { pageNum: number; pageSize: number; total: number },
): Record<string, unknown> {
  return {
    RequestId: requestId,
    Success: true,
    ErrCode: '',
    ErrMessage: '',
    HttpStatusCode: 200,
    PageNum: page.pageNum,
    PageSize: page.pageSize,
    TotalPages: Math.ceil(page.total / page.pageSize),
    TotalElements: page.total,
    Items: { [itemsKey]: items },
  };
}

/** Puts an absent value on the wire the way variant `v` does: missing, null or empty. */
function absent(out: Record<string, unknown>, key: string, v: number, empty: unknown): void {
  if (v % 3 === 0) out[key] = empty;
  else if (v % 3 === 1) out[key] = null;
  // else: left out
}

export function taskToWire(task: SimTask, quirks: boolean): Record<string, unknown> {
  const internet = task.BackupSetDownloadInternetUrl;
  const intranet = task.BackupSetDownloadIntranetUrl;
  if (!quirks) {
    // The clean wire form: the plain task with full http(s) URLs; absent fields stay out of the JSON.
    const out: Record<string, unknown> = {
      ...toPlainTask(task),
      BackupSetDownloadInternetUrl: internet ? `https:${internet}` : undefined,
      BackupSetDownloadIntranetUrl: intranet ? `https:${intranet}` : undefined,
    };
    for (const [key, value] of Object.entries(out)) if (value === undefined || value === '') delete out[key];
    return out;
  }

  const v = taskSeq(task);
  const out: Record<string, unknown> = {
    BackupSetDownloadStatus: task.BackupSetDownloadStatus,
    // Numbers as strings for some tasks.
    BackupSetDataSize: v % 3 === 0 ? String(task.BackupSetDataSize) : task.BackupSetDataSize,
    BackupSetDownloadCreateTime: v % 5 === 0 ? String(task.BackupSetDownloadCreateTime) : task.BackupSetDownloadCreateTime,
    BackupPlanId: task.BackupPlanId,
    BackupSetDbType: task.BackupSetDbType,
    BackupSetId: task.BackupSetId,
    BackupSetDownloadWay: task.BackupSetDownloadWay,
    BackupSetJobType: task.BackupSetJobType,
    BackupSetDownloadTaskId: task.BackupSetDownloadTaskId,
    BackupSetDownloadTaskName: task.BackupSetDownloadTaskName,
    BackupSetDataFormat: task.BackupSetDataFormat,
  };
  if (v % 7 === 3) absent(out, 'BackupSetCode', v, '');
  else out.BackupSetCode = task.BackupSetCode;
  // URLs: scheme-less as the real API sends them, every other task wrapped in literal double quotes.
  if (internet) out.BackupSetDownloadInternetUrl = v % 2 === 0 ? `"${internet}"` : internet;
  else absent(out, 'BackupSetDownloadInternetUrl', v, '');
  if (intranet) out.BackupSetDownloadIntranetUrl = v % 2 === 0 ? `"${intranet}"` : intranet;
  else absent(out, 'BackupSetDownloadIntranetUrl', v + 1, '');
  if (task.BackupSetDownloadTargetType) out.BackupSetDownloadTargetType = task.BackupSetDownloadTargetType;
  else absent(out, 'BackupSetDownloadTargetType', v, '');
  if (task.BackupSetDownloadDir) out.BackupSetDownloadDir = task.BackupSetDownloadDir;
  else absent(out, 'BackupSetDownloadDir', v + 2, '');
  if (task.BackupGatewayId !== undefined) {
    out.BackupGatewayId = v % 2 === 0 ? String(task.BackupGatewayId) : task.BackupGatewayId;
  } else absent(out, 'BackupGatewayId', v, 0);
  if (task.BackupSetDownloadFinishTime !== undefined) {
    out.BackupSetDownloadFinishTime = v % 4 === 1 ? String(task.BackupSetDownloadFinishTime) : task.BackupSetDownloadFinishTime;
  } else absent(out, 'BackupSetDownloadFinishTime', v + 1, 0);
  if (task.ErrMessage) out.ErrMessage = task.ErrMessage;
  else absent(out, 'ErrMessage', v, '');
  return out;
}

export function planToWire(plan: SimPlan): Record<string, unknown> {
  return {
    BackupPlanId: plan.planId,
    BackupPlanName: plan.name,
    BackupPlanStatus: plan.status,
    DatabaseType: plan.dbType,
    SourceEndpointRegion: plan.region,
    OpenBackupSetAutoDownload: plan.autoDownload,
  };
}
