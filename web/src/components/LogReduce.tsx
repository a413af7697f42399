import type { FieldInfo, Rec } from '../lib/charts';
import { cleanText } from '../lib/text';

// LogReduce and LogCompare results: signatures (templates whose variable
// parts are "*" or $-placeholders) with their counts and changes. The
// operators produce records with a _signature field; this view is chosen
// whenever a result has one.

export function isSignatureResult(fields: FieldInfo[]): boolean {
  return fields.some((f) => f.name === '_signature');
}

/** signatureParts splits a signature into literal text and variable parts. */
export function signatureParts(sig: string): { text: string; variable: boolean }[] {
  const out: { text: string; variable: boolean }[] = [];
  const re = /\*+|\$\*|\$[A-Za-z_][\w]*|<\*>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sig)) !== null) {
    if (m.index > last) out.push({ text: sig.slice(last, m.index), variable: false });
    out.push({ text: m[0], variable: true });
    last = m.index + m[0].length;
  }
  if (last < sig.length) out.push({ text: sig.slice(last), variable: false });
  return out;
}

/** signatureQuery turns a signature into a keyword search for its messages (the literal words). */
export function signatureQuery(sig: string): string {
  const words = signatureParts(sig)
    .filter((p) => !p.variable)
    .flatMap((p) => p.text.split(/[^\p{L}\p{N}_]+/u))
    .filter((w) => w.length >= 3)
    .slice(0, 8);
  return words.map((w) => `"${w}"`).join(' ');
}

function change(r: Rec): { label: string; cls: string } | null {
  if (r._isnew === '1' || r._isnew === 'true') return { label: 'new', cls: 'up' };
  if (r._count === '0' && r._deltapercentage !== undefined) return { label: 'gone', cls: 'down' };
  if (r._deltapercentage === undefined || r._deltapercentage === '') return null;
  const d = Number(r._deltapercentage);
  if (!Number.isFinite(d)) return { label: 'new', cls: 'up' };
  return { label: (d > 0 ? '+' : '') + d.toFixed(0) + '%', cls: d > 0 ? 'up' : d < 0 ? 'down' : '' };
}

interface Props {
  rows: Rec[];
  /** onOpen runs the search for a signature's messages */
  onOpen: (row: Rec) => void;
}

/** Signatures lists LogReduce / LogCompare signatures. */
export function Signatures({ rows, onOpen }: Props) {
  const max = Math.max(1, ...rows.map((r) => Number(r._count) || 0));
  return (
    <section class="signatures" data-testid="signatures">
      <table class="result-table">
        <thead>
          <tr>
            <th>Count</th>
            <th>Change</th>
            <th>Signature</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const c = change(r);
            return (
              <tr key={i}>
                <td class="num">
                  <span class="sig-bar" style={{ width: `${(100 * (Number(r._count) || 0)) / max}%` }} />
                  {r._count}
                </td>
                <td class={'num ' + (c?.cls ?? '')}>{c?.label ?? ''}</td>
                <td>
                  <button type="button" class="sig" onClick={() => onOpen(r)} data-testid="signature" title="Show this signature's messages">
                    {signatureParts(cleanText(r._signature ?? '')).map((p, j) =>
                      p.variable ? (
                        <span key={j} class="sig-var">
                          {p.text}
                        </span>
                      ) : (
                        p.text
                      ),
                    )}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** LogReduceHint is shown in the LogReduce tab for results without signatures. */
export function LogReduceHint({ onRun }: { onRun: (op: 'logreduce' | 'logcompare') => void }) {
  return (
    <div class="empty">
      <p>
        LogReduce groups the messages of a search into signatures — patterns with their variable parts marked — so that a million lines read as a
        few dozen. LogCompare shows which signatures are new, gone or changed against an earlier period.
      </p>
      <p>
        <button type="button" class="btn" onClick={() => onRun('logreduce')} data-testid="run-logreduce">
          Run with | logreduce
        </button>{' '}
        <button type="button" class="btn" onClick={() => onRun('logcompare')}>
          Run with | logcompare timeshift -24h
        </button>
      </p>
    </div>
  );
}
