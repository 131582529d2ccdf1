import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { get, put, post, all } from '../api.js'
import { Card, Load, useLoad, Table, Form, ErrorBox, idem } from '../ui.js'

// JSONEditor edits a whole document the API takes with PUT (rules, ladders).
export function JSONEditor({ path, id, wrap = (x) => x }) {
  const st = useLoad(() => get(path), [path])
  const [text, setText] = useState(null)
  const [msg, setMsg] = useState(null)
  const [err, setErr] = useState(null)
  const save = async () => {
    setErr(null); setMsg(null)
    try { await put(path, wrap(JSON.parse(text))); setMsg(t('saved')); st.reload() } catch (e) { setErr(e) }
  }
  return html`<${Load} state=${st}>${(doc) => html`<div class="editor" id=${id}>
    <textarea rows="14" spellcheck="false" value=${text ?? JSON.stringify(doc, null, 2)} onInput=${(e) => setText(e.target.value)}></textarea>
    <div class="form-actions"><button onClick=${save} disabled=${text === null}>${t('save')}</button> <span class="ok">${msg}</span></div>
    <${ErrorBox} error=${err} />
  </div>`}<//>`
}

export function Loyalty() {
  const tiers = useLoad(() => get('/v1/tiers'))
  const rewards = useLoad(() => all('/v1/rewards'))
  const create = async (v) => {
    await post('/v1/rewards', { name: v.name, kind: v.kind || 'coupon', points_cost: Number(v.points_cost), ...(v.stock ? { stock: Number(v.stock) } : {}) }, idem())
    rewards.reload()
  }
  return html`<div id="page-loyalty">
    <div class="grid2">
      <${Card} title=${t('tierLadder')}>
        <${Load} state=${tiers}>${(l) => html`<${Table} id="tiers-table" rows=${l.tiers} cols=${[
          { label: t('name'), render: (x) => html`<b>${x.name}</b>` }, { label: t('metric'), key: 'metric' },
          { label: t('threshold_'), key: 'threshold' }, { label: 'window', key: 'window_days' },
          { label: '×', render: (x) => (x.benefits && x.benefits.points_multiplier) || '—' }]} />`}<//>
      <//>
      <${Card} title=${t('pointsRules')}><${JSONEditor} path="/v1/points/rules" id="points-rules" /><//>
    </div>
    <${Card} title=${t('rewards')}>
      <${Load} state=${rewards}>${(rs) => html`<${Table} id="rewards-table" rows=${rs} cols=${[
        { label: t('name'), key: 'name' }, { label: t('kind'), key: 'kind' }, { label: t('pointsCost'), key: 'points_cost' },
        { label: t('stock'), key: 'stock' }, { label: t('redeemed'), key: 'redeemed' }, { label: t('status'), key: 'status' }]} />`}<//>
      <${Form} id="reward-form" submit=${create} fields=${[{ name: 'name', label: t('name'), required: true },
        { name: 'kind', label: t('kind'), type: 'select', options: [['coupon', 'coupon'], ['gift', 'gift'], ['voucher', 'voucher']] },
        { name: 'points_cost', label: t('pointsCost'), type: 'number', required: true }, { name: 'stock', label: t('stock'), type: 'number' }]} />
    <//>
  </div>`
}
