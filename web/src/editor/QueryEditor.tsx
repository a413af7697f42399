import { useEffect, useRef } from 'preact/hooks';
import { Annotation, EditorState, Prec } from '@codemirror/state';

/** fromOutside marks the transactions that set a text given by the page. */
const fromOutside = Annotation.define<boolean>();
import { EditorView, keymap, drawSelection, placeholder, highlightSpecialChars } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { syntaxHighlighting, bracketMatching } from '@codemirror/language';
import { classHighlighter } from '@lezer/highlight';
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, closeCompletion } from '@codemirror/autocomplete';
import { setDiagnostics, lintKeymap } from '@codemirror/lint';
import { sumoLanguage, completeSumo, problemDiagnostic, type FieldSuggestion } from './sumo';
import type { QueryProblem } from '../lib/api';

interface Props {
  /** the text the editor starts with */
  value: string;
  /** a text set from outside (a clicked filter, a saved search): applied when seq changes */
  external: { text: string; seq: number };
  onChange: (v: string) => void;
  onRun: () => void;
  problem: QueryProblem | null;
  fields: () => FieldSuggestion[];
}

export function QueryEditor({ value, external, onChange, onRun, problem, fields }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // Callbacks change on every render; the editor reads the latest.
  const cb = useRef({ onChange, onRun, fields });
  cb.current = { onChange, onRun, fields };

  useEffect(() => {
    const run = (v: EditorView) => {
      closeCompletion(v);
      cb.current.onRun();
      return true;
    };
    const state = EditorState.create({
      doc: value,
      extensions: [
        Prec.highest(keymap.of([{ key: 'Mod-Enter', run }, { key: 'Shift-Enter', run: () => false }])),
        history(),
        drawSelection(),
        highlightSpecialChars(),
        closeBrackets(),
        bracketMatching(),
        sumoLanguage,
        syntaxHighlighting(classHighlighter),
        autocompletion({ override: [completeSumo(() => cb.current.fields())], activateOnTyping: true, icons: false }),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
        EditorView.lineWrapping,
        EditorView.cspNonce.of(cspNonce()),
        placeholder('Search: keywords, "phrases", _sourceCategory=prod/web | count by _sourceHost   (Ctrl+Enter runs)'),
        EditorView.contentAttributes.of({ 'aria-label': 'Query', 'data-testid': 'query-editor' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && !u.transactions.some((tr) => tr.annotation(fromOutside))) cb.current.onChange(u.state.doc.toString());
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => {
      view.current?.destroy();
      view.current = null;
    };
    // The editor is created once; value changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Only texts set from outside replace the document: syncing every value
  // back would fight the user's typing with stale renders.
  useEffect(() => {
    const v = view.current;
    if (!v || external.seq === 0) return;
    const cur = v.state.doc.toString();
    if (cur !== external.text)
      v.dispatch({ changes: { from: 0, to: cur.length, insert: external.text }, selection: { anchor: external.text.length }, annotations: fromOutside.of(true) });
  }, [external.seq]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const doc = v.state.doc.toString();
    v.dispatch(setDiagnostics(v.state, problem ? [problemDiagnostic(doc, problem)] : []));
  }, [problem]);

  return <div class="query-editor" ref={host} />;
}

/** cspNonce is the nonce the server allows the editor's generated styles with. */
function cspNonce(): string {
  const v = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
  return /^[A-Za-z0-9+/=]{16,}$/.test(v) ? v : '';
}

/** focusEditor puts the keyboard focus in the query editor. */
export function focusEditor() {
  const el = document.querySelector<HTMLElement>('.query-editor .cm-content');
  el?.focus();
}
