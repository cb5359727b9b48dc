import type { ConflictRun } from './conflict'
import { clockTime } from './format'

const STEPS: Array<{ phase: ConflictRun['phase']; label: string }> = [
  { phase: 'offline', label: 'Both offline' },
  { phase: 'editing', label: 'Laptop renames, Phone ticks the same todo' },
  { phase: 'reconnecting', label: 'Phone reconnects, then Laptop' },
  { phase: 'done', label: 'Settled' },
]

export function ConflictCard({ run, onDismiss }: { run: ConflictRun; onDismiss: () => void }) {
  const reached = run.phase === 'failed' ? -1 : STEPS.findIndex((step) => step.phase === run.phase)
  const finished = run.phase === 'done' || run.phase === 'failed'
  return (
    <section className={`conflict ${run.phase === 'done' ? 'is-done' : ''}`} data-testid="conflict-result" data-phase={run.phase} data-kept={run.merged ? 'both' : ''}>
      <div className="conflict-head">
        <h2>{run.original ? <>Conflict on “{run.original}”</> : 'Making a conflict'}</h2>
        {finished && (
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={onDismiss}>
            ×
          </button>
        )}
      </div>
      <ol className="steps">
        {STEPS.map((step, i) => (
          <li key={step.phase} className={i < reached || run.phase === 'done' ? 'step done' : i === reached ? 'step current' : 'step'}>
            <span className="step-n">{i + 1}</span>
            {step.label}
          </li>
        ))}
      </ol>
      {run.edits.length > 0 && (
        <div className="edits">
          {run.edits.map((edit) => (
            <div key={edit.device} className={`edit ${run.merged ? 'won' : ''}`}>
              <div className="edit-who">
                {edit.device} <span className="edit-at">edited at {clockTime(edit.at)}</span>
                {run.merged && <span className="badge badge-win">kept</span>}
              </div>
              <div className="edit-title">{edit.change}</div>
            </div>
          ))}
        </div>
      )}
      {run.merged && (
        <p className="verdict" data-testid="conflict-verdict">
          <strong>Both edits were kept</strong> on both devices and the server: “{run.merged.title}”, {run.merged.done ? 'ticked' : 'not ticked'}. The
          two devices changed different fields, and the todos table merges field by field (<code>merge: 'field'</code>), so the
          Phone’s later edit did not overwrite the Laptop’s rename.
        </p>
      )}
      {run.phase === 'failed' && <p className="verdict tone-error">Could not finish: {run.note}</p>}
    </section>
  )
}
