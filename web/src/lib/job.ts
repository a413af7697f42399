// A search job (Sumo's search job API), polled until done, with its
// histogram accumulated and its messages fetched page by page on demand.

import { del, get, post, ApiError } from './api';
import type { FieldInfo, Rec } from './charts';

export interface Bucket {
  startTimestamp: number;
  length: number;
  count: number;
}

interface StatusResponse {
  state: string;
  messageCount: number;
  recordCount: number;
  histogramBuckets: Bucket[] | null;
  pendingErrors: string[] | null;
  pendingWarnings: string[] | null;
}

interface PageResponse {
  fields: FieldInfo[];
  messages?: { map: Rec }[];
  records?: { map: Rec }[];
}

export const DONE = 'DONE GATHERING RESULTS';
export const CANCELLED = 'CANCELLED';
export const FORCE_PAUSED = 'FORCE PAUSED';

export function isFinished(state: string): boolean {
  return state === DONE || state === CANCELLED || state === FORCE_PAUSED;
}

export interface JobRequest {
  query: string;
  from: number;
  to: number;
  timeZone: string;
}

/** PAGE is the size of a page of messages. */
export const PAGE = 500;

export class SearchJob {
  id = '';
  state = 'NOT STARTED';
  messageCount = 0;
  recordCount = 0;
  buckets = new Map<number, Bucket>();
  errors: string[] = [];
  warnings: string[] = [];
  fields: FieldInfo[] = [];
  records: Rec[] | null = null;
  recordFields: FieldInfo[] = [];
  startedAt = performance.now();
  /** when the first page of messages arrived (ms since startedAt) */
  firstPageMs = -1;

  private pages = new Map<number, Rec[]>();
  private pending = new Map<number, Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private listeners = new Set<() => void>();
  private notifyQueued = false;

  constructor(public req: JobRequest) {}

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private notify() {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const fn of this.listeners) fn();
    });
  }

  async start(): Promise<void> {
    const res = await post<{ id: string }>('/api/v1/search/jobs', {
      query: this.req.query,
      from: String(this.req.from),
      to: String(this.req.to),
      timeZone: this.req.timeZone,
    });
    this.id = res.id;
    this.state = 'GATHERING RESULTS';
    this.notify();
    this.poll(0);
  }

  get finished(): boolean {
    return isFinished(this.state);
  }

  private poll(n: number) {
    if (this.disposed) return;
    const delay = this.finished ? 20_000 : n < 8 ? 100 : n < 20 ? 250 : 1000;
    this.timer = setTimeout(() => this.tick(n), n === 0 ? 0 : delay);
  }

  private async tick(n: number) {
    if (this.disposed) return;
    try {
      const st = await get<StatusResponse>(`/api/v1/search/jobs/${this.id}`);
      if (this.disposed) return;
      const wasFinished = this.finished;
      this.state = st.state;
      const grew = st.messageCount !== this.messageCount;
      this.messageCount = st.messageCount;
      this.recordCount = st.recordCount;
      for (const b of st.histogramBuckets ?? []) this.buckets.set(b.startTimestamp, b);
      this.errors.push(...(st.pendingErrors ?? []));
      this.warnings.push(...(st.pendingWarnings ?? []));
      if (grew) this.invalidatePartialPages();
      if (this.finished && !wasFinished && this.recordCount > 0) await this.loadRecords();
      this.notify();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        this.state = CANCELLED;
        this.errors.push('the search expired on the server; run it again');
        this.notify();
        return;
      }
    }
    this.poll(n + 1);
  }

  private invalidatePartialPages() {
    for (const [p, rows] of this.pages) if (rows.length < PAGE) this.pages.delete(p);
  }

  /** message returns message i if it was fetched, and asks for its page otherwise. */
  message(i: number): Rec | undefined {
    const p = Math.floor(i / PAGE);
    const page = this.pages.get(p);
    if (page && i - p * PAGE < page.length) return page[i - p * PAGE];
    if (i < this.messageCount) void this.loadPage(p);
    return undefined;
  }

  /** loadedMessages returns the messages fetched so far, in order, up to max. */
  loadedMessages(max = 5000): Rec[] {
    const out: Rec[] = [];
    for (let p = 0; out.length < max; p++) {
      const page = this.pages.get(p);
      if (!page) break;
      out.push(...page);
      if (page.length < PAGE) break;
    }
    return out.slice(0, max);
  }

  loadPage(p: number): Promise<void> {
    const inFlight = this.pending.get(p);
    if (inFlight) return inFlight;
    const pr = (async () => {
      try {
        const res = await get<PageResponse>(`/api/v1/search/jobs/${this.id}/messages?offset=${p * PAGE}&limit=${PAGE}`);
        if (this.disposed) return;
        const rows = (res.messages ?? []).map((m) => m.map);
        this.pages.set(p, rows);
        if (res.fields?.length) this.mergeFields(res.fields);
        if (p === 0 && rows.length > 0 && this.firstPageMs < 0) this.firstPageMs = performance.now() - this.startedAt;
        this.notify();
      } catch {
        /* a later scroll asks again */
      } finally {
        this.pending.delete(p);
      }
    })();
    this.pending.set(p, pr);
    return pr;
  }

  private mergeFields(fs: FieldInfo[]) {
    const have = new Set(this.fields.map((f) => f.name));
    for (const f of fs) if (!have.has(f.name)) this.fields.push(f);
  }

  async loadRecords(): Promise<void> {
    const all: Rec[] = [];
    let fields: FieldInfo[] = [];
    for (let off = 0; off < Math.min(this.recordCount, 100_000); off += 10_000) {
      const res = await get<PageResponse>(`/api/v1/search/jobs/${this.id}/records?offset=${off}&limit=10000`);
      fields = res.fields ?? fields;
      all.push(...(res.records ?? []).map((r) => r.map));
      if ((res.records ?? []).length < 10_000) break;
    }
    this.recordFields = fields;
    this.records = all;
  }

  /** cancel stops gathering; what was found stays readable. */
  async cancel(): Promise<void> {
    if (this.finished || !this.id) return;
    this.state = CANCELLED;
    await this.release();
    // Deleting the job frees its results: keep what was fetched.
    this.messageCount = this.loadedMessages(Number.MAX_SAFE_INTEGER).length;
    this.notify();
  }

  private async release() {
    if (!this.id) return;
    try {
      await del(`/api/v1/search/jobs/${this.id}`);
    } catch {
      /* already gone */
    }
  }

  /** dispose forgets the job here and on the server. */
  dispose() {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    void this.release();
  }
}
