import { html } from 'htm/preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { t } from './i18n.js'

// useLoad runs load() on mount and when deps change: {data, error, loading, reload}.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true })
  const run = useCallback(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    load().then((data) => live && setState({ data, loading: false }), (error) => live && setState({ error, loading: false }))
    return () => { live = false }
  }, deps)
  useEffect(run, [run])
  return { ...state, reload: run }
}

export const Loading = () => html`<div class="muted">${t('loading')}</div>`
export const Empty = ({ children }) => html`<div class="empty">${children || t('noData')}</div>`
export const ErrorBox = ({ error }) => error ? html`<div class="error" role="alert">${error.message || String(error)}${error.field ? ` (${error.field})` : ''}</div>` : null

// Load renders children(data) once loaded.
export function Load({ state, children }) {
  if (state.error) return html`<${ErrorBox} error=${state.error} />`
  if (state.loading && state.data === undefined) return html`<${Loading} />`
  return children(state.data)
}

export const Card = ({ title, children, extra, id }) => html`
  <section class="card" id=${id}>
    ${title && html`<header class="card-h"><h2>${title}</h2>${extra}</header>`}
    ${children}
  </section>`

export function Table({ cols, rows, onRow, id }) {
  if (!rows || rows.length === 0) return html`<${Empty} />`
  return html`<div class="table-wrap"><table id=${id}>
    <thead><tr>${cols.map((c) => html`<th>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((r, i) => html`<tr class=${onRow ? 'clickable' : ''} onClick=${onRow ? () => onRow(r) : undefined}>
      ${cols.map((c) => html`<td data-label=${c.label}>${c.render ? c.render(r, i) : fmt(r[c.key])}</td>`)}
    </tr>`)}</tbody>
  </table></div>`
}

export function fmt(v) {
  if (v === null || v === undefined || v === '') return '—'
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return localTime(v)
  if (Array.isArray(v)) return v.join(', ') || '—'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

const pad = (n) => String(n).padStart(2, '0')
// localTime is an RFC 3339 time in the browser's zone, to the minute.
export function localTime(v) {
  const d = new Date(v)
  if (isNaN(d)) return v
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
export const localDay = (v) => (v ? localTime(v).slice(0, 10) : '')

export const money = (minor, currency = 'CNY') =>
  minor === undefined || minor === null ? '—' : (minor / 100).toLocaleString(undefined, { style: 'currency', currency })

// FillBar is value against max, with an optional second mark (e.g. the QR cap).
export function FillBar({ value, max, label }) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0
  const tone = pct >= 95 ? 'full' : pct >= 80 ? 'high' : 'ok'
  return html`<div class="fill" title=${`${value} / ${max || '∞'}`}>
    <div class=${'fill-bar ' + tone} style=${{ width: pct + '%' }}></div>
    <span class="fill-label">${label ?? `${value} / ${max || '∞'}`}</span>
  </div>`
}

// Form is a small form of fields: [{name, label, type, options, required}].
export function Form({ fields, submit, label, id, initial = {} }) {
  const [v, setV] = useState(initial)
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const onSubmit = async (e) => {
    e.preventDefault()
    setBusy(true); setError(null)
    try { await submit(v); setV(initial) } catch (err) { setError(err) } finally { setBusy(false) }
  }
  const set = (name, val) => setV((o) => ({ ...o, [name]: val }))
  return html`<form class="form" id=${id} onSubmit=${onSubmit}>
    ${fields.map((f) => html`<label class="field"><span>${f.label}</span>
      ${f.type === 'select'
        ? html`<select name=${f.name} value=${v[f.name] ?? ''} onChange=${(e) => set(f.name, e.target.value)}>
            ${f.options.map(([val, text]) => html`<option value=${val}>${text}</option>`)}</select>`
        : f.type === 'multi'
          ? html`<select name=${f.name} multiple onChange=${(e) => set(f.name, [...e.target.selectedOptions].map((o) => o.value))}>
            ${f.options.map(([val, text]) => html`<option value=${val}>${text}</option>`)}</select>`
          : f.type === 'textarea'
            ? html`<textarea name=${f.name} rows=${f.rows || 8} value=${v[f.name] ?? ''} onInput=${(e) => set(f.name, e.target.value)}></textarea>`
            : html`<input name=${f.name} type=${f.type || 'text'} required=${f.required} value=${v[f.name] ?? ''} onInput=${(e) => set(f.name, e.target.value)} />`}
    </label>`)}
    <div class="form-actions"><button type="submit" disabled=${busy}>${label || t('create')}</button></div>
    <${ErrorBox} error=${error} />
  </form>`
}

export const Tabs = ({ tabs, current, onChange }) => html`<div class="tabs">${tabs.map(([k, label]) =>
  html`<button type="button" class=${k === current ? 'tab on' : 'tab'} onClick=${() => onChange(k)}>${label}</button>`)}</div>`

export const Badge = ({ tone = '', children }) => html`<span class=${'badge ' + tone}>${children}</span>`

export const idem = () => 'console-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2)
