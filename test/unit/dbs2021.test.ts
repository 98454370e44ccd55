/**
 * The pure parts of the 2021-01-01 advanced-download edge: state and
 * `Success` normalisation, item normalisation (strings → numbers), the
 * envelope check, page and link decoding, the error table, the pager's stop
 * and de-duplication rules, the endpoint choice.
 */
import { describe, expect, it } from 'vitest';
import { DbsApiError } from '../../src/dbs/errors.js';
import { checkAnswer2021, clampLinkSeconds, type Dbs2021Api, decodeAdvancedTaskPage, decodeMintedLinks } from '../../src/dbs2021/client.js';
import { endpointForRegion } from '../../src/dbs2021/endpoint.js';
import { classifyDbs2021Failure } from '../../src/dbs2021/errors.js';
import { listAllAdvancedTasks } from '../../src/dbs2021/pager.js';
import { type AdvancedDownloadTask, expirationMs, isSuccess, normaliseAdvancedStatus, normaliseAdvancedTask } from '../../src/dbs2021/task.js';

describe('normaliseAdvancedStatus', () => {
  it.each([
    ['initializing', 'initializing'],
    ['Initializing', 'initializing'],
    ['queueing', 'queueing'],
    ['queuing', 'queueing'],
    ['QUEUING', 'queueing'],
    ['running', 'running'],
    ['failed', 'failed'],
    ['finished', 'finished'],
    ['Expired', 'expired'],
    ['paused', 'paused'],
    ['  running ', 'running'],
    ['', undefined],
    [null, undefined],
    [42, '42'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseAdvancedStatus(input)).toBe(expected);
  });
});

describe('isSuccess', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    [true, true],
    [false, false],
    ['yes', undefined],
    [undefined, undefined],
    [1, undefined],
  ])('%j → %j', (input, expected) => {
    expect(isSuccess(input)).toBe(expected);
  });
});

describe('normaliseAdvancedTask', () => {
  const raw = {
    TaskId: 'dt-qxntlvgu1234',
    RegionCode: 'cn-hangzhou',
    Format: 'csv',
    DbList: '[dbtest]',
    BakSetId: '1482612345',
    DownloadStatus: 'queuing',
    ExportDataSize: '1024',
    ImportDataSize: '2048',
    BackupSetTime: '1663162216000',
    TargetType: 'url',
    TargetPath: 'test_db/path',
    Progress: '0/0',
    GmtCreate: '1663321957000',
  };

  it('turns the all-string item into numbers, canonical state, upper-case target type', () => {
    expect(normaliseAdvancedTask(raw)).toEqual({
      taskId: 'dt-qxntlvgu1234',
      status: 'queueing',
      region: 'cn-hangzhou',
      bakSetId: '1482612345',
      backupSetTime: 1663162216000,
      progress: '0/0',
      format: 'csv',
      targetType: 'URL',
      targetPath: 'test_db/path',
      exportDataSize: 1024,
      importDataSize: 2048,
      dbList: '[dbtest]',
      createdAt: 1663321957000,
    });
  });

  it('leaves out empty and garbage values, warning about the garbage', () => {
    const warnings: string[] = [];
    const task = normaliseAdvancedTask({ ...raw, ExportDataSize: 'lots', GmtCreate: '', TargetPath: '  ' }, (m) => warnings.push(m));
    expect(task.exportDataSize).toBeUndefined();
    expect(task.createdAt).toBeUndefined();
    expect(task.targetPath).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it.each([
    ['no TaskId', { ...raw, TaskId: '' }, 'no TaskId'],
    ['no DownloadStatus', { ...raw, DownloadStatus: undefined }, 'no DownloadStatus'],
    ['not an object', 'dt-1', 'not an object'],
  ])('%s makes the answer invalid', (_name, input, message) => {
    expect(() => normaliseAdvancedTask(input)).toThrow(message);
  });
});

describe('expirationMs', () => {
  it.each([
    [1661329050, 1661329050000],
    [1661329050000, 1661329050000],
    ['1661329050', 1661329050000],
    [0, undefined],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j → %j', (input, expected) => {
    expect(expirationMs(input)).toBe(expected);
  });
});

describe('checkAnswer2021', () => {
  it('accepts Success "true" in any case', () => {
    expect(checkAnswer2021({ body: { Success: 'True', Code: 'Success' } })).toEqual({ Success: 'True', Code: 'Success' });
  });

  it('decides from Success only: an error-looking ErrCode beside Success "true" is documentation filler', () => {
    expect(() => checkAnswer2021({ body: { Success: 'true', ErrCode: 'DBS.InternalError' } })).not.toThrow();
  });

  it('throws the classified business error for Success "false" on HTTP 200', () => {
    try {
      checkAnswer2021({ body: { Success: 'false', Code: 'DBS.InternalError', ErrCode: 'DBS.InternalError', RequestId: 'R1' }, statusCode: 200 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DbsApiError);
      expect((error as DbsApiError).apiCode).toBe('DBS.InternalError');
      expect((error as DbsApiError).retry.kind).toBe('retryable');
      expect((error as DbsApiError).message).toContain('request id R1');
    }
  });

  it.each([
    ['no Success', { Data: {} }],
    ['a body that is not an object', 'ok'],
    ['an array', []],
  ])('%s is an invalid response', (_name, body) => {
    expect(() => checkAnswer2021({ body })).toThrow('invalid response');
  });
});

describe('decodeAdvancedTaskPage', () => {
  const query = { currentPage: 2, pageSize: 50 };
  it('reads totals given as numbers or strings', () => {
    const page = decodeAdvancedTaskPage(
      {
        RequestId: 'R',
        Data: { PageNumber: '2', PageSize: 50, TotalPages: '3', TotalElements: 101, Content: { List: [{ TaskId: 'dt-a', DownloadStatus: 'running' }] } },
      },
      query,
    );
    expect(page).toMatchObject({ requestId: 'R', pageNumber: 2, pageSize: 50, totalPages: 3, totalElements: 101 });
    expect(page.items.map((t) => t.taskId)).toEqual(['dt-a']);
  });

  it.each([
    ['no Data', {}],
    ['no Content', { Data: { TotalPages: 0, TotalElements: 0 } }],
    ['a null List', { Data: { Content: { List: null } } }],
  ])('%s is an empty page', (_name, body) => {
    const page = decodeAdvancedTaskPage(body, query);
    expect(page.items).toEqual([]);
    expect(page.totalElements).toBe(0);
  });

  it('rejects a List that is not an array and totals that are not whole numbers', () => {
    expect(() => decodeAdvancedTaskPage({ Data: { Content: { List: 'x' } } }, query)).toThrow('Data.Content.List');
    expect(() => decodeAdvancedTaskPage({ Data: { TotalPages: '1.5' } }, query)).toThrow('Data.TotalPages');
  });
});

describe('decodeMintedLinks', () => {
  it('cleans the URLs like 2019 ones and normalises ExpirationTime seconds', () => {
    const links = decodeMintedLinks(
      { Data: { PublicUrl: '"//bucket.example/dt-1/f?Expires=1&Signature=s"', PrivateUrl: 'javascript:alert(1)', ExpirationTime: 1661329050 } },
      0,
    );
    expect(links).toEqual({ publicUrl: 'https://bucket.example/dt-1/f?Expires=1&Signature=s', expiresAt: 1661329050000 });
  });

  it('uses now + validity when ExpirationTime is missing; no usable URL is an invalid response', () => {
    expect(decodeMintedLinks({ Data: { PublicUrl: 'https://b.example/x' } }, 1234).expiresAt).toBe(1234);
    expect(() => decodeMintedLinks({ Data: {} }, 0)).toThrow('no usable URL');
  });

  it.each([
    [10, 300],
    [300, 300],
    [7200, 7200],
    [86_400, 86_400],
    [1e9, 86_400],
    [Number.NaN, 86_400],
  ])('clampLinkSeconds(%d) = %d', (input, expected) => {
    expect(clampLinkSeconds(input)).toBe(expected);
  });
});

describe('classifyDbs2021Failure', () => {
  const business = (code: string) => classifyDbs2021Failure({ kind: 'business', body: { Success: 'false', Code: code, ErrCode: code }, httpStatus: 200 });
  it.each([
    ['DBS.InternalError', 'retryable'],
    ['Request.Forbidden', 'permanent'],
    ['DBS.NoPermissionException', 'permanent'],
    ['DBS.ParamIsInValid', 'permanent'],
    ['Param.NotFound', 'permanent'],
    ['Forbidden.InstanceNotFound', 'permanent'],
    ['DBS.NotExists', 'permanent'],
    ['DBS.DownloadTask.CannotFind', 'permanent'],
    ['DBS.DownloadTask.RegionNotSupport', 'permanent'],
    ['DBS.DownloadTask.OnlyOneRunningOrFailedTask', 'permanent'],
    // Unknown 2021 codes fall back to the shared table: an unknown DBS.* answer about the request is not
    // retried hot (permanent for this poll); the next scheduled poll asks again.
    ['DBS.SomethingNew', 'permanent'],
  ])('%s → %s', (code, kind) => {
    const error = business(code);
    expect(error.retry.kind).toBe(kind);
    expect(error.apiCode).toBe(code);
  });

  it('a thrown 403 Request.Forbidden is permanent and names the RAM actions', () => {
    const error = classifyDbs2021Failure({
      kind: 'thrown',
      error: Object.assign(new Error('Request.Forbidden: code: 403'), {
        statusCode: 403,
        code: 'Request.Forbidden',
        data: { Code: 'Request.Forbidden', RequestId: 'R9' },
      }),
    });
    expect(error.retry.kind).toBe('permanent');
    expect(error.httpStatus).toBe(403);
    expect(error.message).toContain('dbs:DescribeDownloadTask');
    expect(error.message).toContain('R9');
  });

  it('gateway throttling keeps the shared policy (rate-limited)', () => {
    const error = classifyDbs2021Failure({ kind: 'thrown', error: Object.assign(new Error('x'), { statusCode: 400, data: { Code: 'Throttling.User' } }) });
    expect(error.retry.kind).toBe('rate-limited');
  });
});

describe('listAllAdvancedTasks (paging rules)', () => {
  const task = (id: string): AdvancedDownloadTask => ({ taskId: id, status: 'running' });
  function fakeApi(pages: Record<number, { totalPages: number; totalElements: number; ids: string[] }>) {
    const asked: number[] = [];
    const api: Pick<Dbs2021Api, 'describeDownloadTaskPage'> = {
      async describeDownloadTaskPage(query) {
        asked.push(query.currentPage);
        const page = pages[query.currentPage] ?? { totalPages: 0, totalElements: 0, ids: [] };
        return {
          pageNumber: query.currentPage,
          pageSize: query.pageSize,
          totalPages: page.totalPages,
          totalElements: page.totalElements,
          items: page.ids.map(task),
        };
      },
    };
    return { api, asked };
  }
  const instance = { id: 'rm-1', region: 'cn-hangzhou' };

  it('starts at page 1 and stops when PageNumber reaches TotalPages', async () => {
    const { api, asked } = fakeApi({ 1: { totalPages: 2, totalElements: 3, ids: ['a', 'b'] }, 2: { totalPages: 2, totalElements: 3, ids: ['c'] } });
    const result = await listAllAdvancedTasks(api, instance, { pageSize: 2 });
    expect(asked).toEqual([1, 2]);
    expect(result.tasks.map((t) => t.taskId)).toEqual(['a', 'b', 'c']);
  });

  it('stops at an empty page even when TotalPages says more', async () => {
    const { api, asked } = fakeApi({ 1: { totalPages: 9, totalElements: 0, ids: [] } });
    expect((await listAllAdvancedTasks(api, instance)).tasks).toEqual([]);
    expect(asked).toEqual([1]);
  });

  it('stops once TotalElements distinct ids were seen', async () => {
    const { api, asked } = fakeApi({ 1: { totalPages: 5, totalElements: 2, ids: ['a', 'b'] } });
    expect((await listAllAdvancedTasks(api, instance, { pageSize: 2 })).tasks).toHaveLength(2);
    expect(asked).toEqual([1]);
  });

  it('de-duplicates a task listed on two pages', async () => {
    const { api } = fakeApi({ 1: { totalPages: 2, totalElements: 3, ids: ['a', 'b'] }, 2: { totalPages: 2, totalElements: 3, ids: ['b', 'c'] } });
    const result = await listAllAdvancedTasks(api, instance, { pageSize: 2 });
    expect(result.tasks.map((t) => t.taskId)).toEqual(['a', 'b', 'c']);
  });
});

describe('endpointForRegion', () => {
  it.each([
    ['cn-beijing', undefined, 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['cn-hangzhou', undefined, 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['us-east-1', undefined, 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['ap-southeast-1', undefined, 'dbs-api.ap-southeast-1.aliyuncs.com'],
    ['eu-central-1', undefined, 'dbs-api.eu-central-1.aliyuncs.com'],
    ['cn-wulanchabu', undefined, 'dbs.cn-wulanchabu.aliyuncs.com'],
    ['ap-southeast-1', '127.0.0.1:8080', '127.0.0.1:8080'],
  ])('%s (configured %s) → %s', (region, configured, expected) => {
    expect(endpointForRegion(region, configured)).toBe(expected);
  });
});
