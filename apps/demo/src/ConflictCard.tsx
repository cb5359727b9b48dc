import type { ConflictRun } from './conflict'
import { clockTime, ruleText, stampTime } from './format'

const STEPS: Array<{ phase: ConflictRun['phase']; label: string }> = [
  { phase: 'offline', label: 'Both offline' },
  { phase: 'editing', label: 'Same todo edited on both' },
  { phase: 'reconnecting', label: 'Phone reconnects, then Laptop' },
  { phase: 'done', label: 'Settled' },
]

export function ConflictCard({ run, onDismiss }: { run: ConflictRun; onDismiss: () => void }) {
  const reached = run.phase === 'failed' ? -1 : STEPS.findIndex((step) => step.phase === run.phase)
  const finished = run.phase === 'done' || run.phase === 'failed'
  return (
    <section className={`conflict ${run.phase === 'done' ? 'is-done' : ''}`} data-testid="conflict-result" data-phase={run.phase} data-winner={run.winner?.device ?? ''}>
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
          {run.edits.map((edit) => {
            const won = run.winner?.device === edit.device
            return (
              <div key={edit.device} className={`edit ${run.winner ? (won ? 'won' : 'lost') : ''}`}>
                <div className="edit-who">
                  {edit.device} <span className="edit-at">edited at {clockTime(edit.at)}</span>
                  {run.winner && <span className={`badge ${won ? 'badge-win' : 'badge-lose'}`}>{won ? 'won' : 'superseded'}</span>}
                </div>
                <div className="edit-title">“{edit.title}”</div>
              </div>
            )
          })}
        </div>
      )}
      {run.winner && (
        <p className="verdict" data-testid="conflict-verdict">
          <strong>{run.winner.device}’s edit won</strong> on both devices and the server: it is the later write, even
          though the Laptop reconnected last.
          {run.winner.stamp && (
            <>
              {' '}
              Winning stamp <code>{stampTime(run.winner.stamp)}</code>
              {run.winner.rule ? <> — {ruleText(run.winner.rule)}</> : null}.
            </>
          )}
        </p>
      )}
      {run.phase === 'failed' && <p className="verdict tone-error">Could not finish: {run.note}</p>}
    </section>
  )
}
