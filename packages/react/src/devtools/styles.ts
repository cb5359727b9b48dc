/** The panel's stylesheet: every rule under `.lwdt`, so it neither leaks into the page nor depends on it. */
export const DEVTOOLS_CSS = `
.lwdt{--lwdt-bg:#0f172a;--lwdt-fg:#e2e8f0;--lwdt-muted:#94a3b8;--lwdt-line:#1e293b;--lwdt-ok:#4ade80;--lwdt-warn:#fbbf24;--lwdt-bad:#f87171;--lwdt-busy:#60a5fa;
  background:var(--lwdt-bg);color:var(--lwdt-fg);font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border-radius:10px;padding:10px 12px;box-shadow:0 6px 24px rgba(15,23,42,.25);text-align:left}
.lwdt *{box-sizing:border-box}
.lwdt-head{display:flex;align-items:center;gap:8px;padding-bottom:8px;border-bottom:1px solid var(--lwdt-line)}
.lwdt-title{font-size:13px}
.lwdt-spacer{flex:1}
.lwdt-btn{font:inherit;color:var(--lwdt-fg);background:#1e293b;border:1px solid #334155;border-radius:6px;padding:2px 8px;cursor:pointer}
.lwdt-btn:hover{background:#334155}.lwdt-btn:disabled{opacity:.5;cursor:default}
.lwdt-pill{border-radius:999px;padding:1px 8px;font-weight:600;background:#334155}
.lwdt-online{background:rgba(74,222,128,.15);color:var(--lwdt-ok)}
.lwdt-syncing{background:rgba(96,165,250,.15);color:var(--lwdt-busy)}
.lwdt-connecting{background:rgba(251,191,36,.15);color:var(--lwdt-warn)}
.lwdt-offline{background:rgba(148,163,184,.15);color:var(--lwdt-muted)}
.lwdt-facts{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:6px 12px;margin:8px 0}
.lwdt-fact{min-width:0}.lwdt-fact dt{color:var(--lwdt-muted);font-size:10px;text-transform:uppercase;letter-spacing:.05em}
.lwdt-fact dd{margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.lwdt-section{border-top:1px solid var(--lwdt-line);padding-top:6px;margin-top:6px}
.lwdt-section h4{margin:0 0 4px;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--lwdt-muted)}
.lwdt-count{display:inline-block;min-width:18px;text-align:center;border-radius:999px;background:#1e293b;color:var(--lwdt-fg);padding:0 5px;margin-left:4px}
.lwdt-table{width:100%;border-collapse:collapse}
.lwdt-table th{color:var(--lwdt-muted);font-weight:400;text-align:left;padding:2px 6px 2px 0;font-size:10px}
.lwdt-table td{padding:3px 6px 3px 0;vertical-align:top;white-space:nowrap}
.lwdt-table tr+tr td{border-top:1px solid var(--lwdt-line)}
.lwdt code{color:#c4b5fd;font:inherit;background:none;border:0;padding:0;border-radius:0}
.lwdt-tags{display:inline-flex;flex-wrap:wrap;gap:4px;align-items:center}
.lwdt-badge{display:inline-block;border-radius:4px;padding:0 5px;margin-right:4px;font-size:11px;border:1px solid currentColor}
.lwdt-tone-ok{color:var(--lwdt-ok)}.lwdt-tone-warn{color:var(--lwdt-warn)}.lwdt-tone-busy{color:var(--lwdt-busy)}.lwdt-tone-off{color:var(--lwdt-muted)}
.lwdt-ok{color:var(--lwdt-ok)}.lwdt-bad{color:var(--lwdt-bad)}.lwdt-muted{color:var(--lwdt-muted)}
.lwdt-wrap{white-space:normal;word-break:break-word}
.lwdt-empty,.lwdt-more{margin:2px 0}
.lwdt-errors{list-style:none;margin:0;padding:0}.lwdt-errors li{padding:2px 0}
.lwdt-error{color:var(--lwdt-bad);margin:6px 0}
`
