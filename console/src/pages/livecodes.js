import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { all, getOr, image, post } from '../api.js'
import { Card, Load, useLoad, Table, FillBar, Form, idem } from '../ui.js'

function QR({ code }) {
  const [src, setSrc] = useState(null)
  useEffect(() => { let u; image(`/v1/live-codes/${code}/qr.png`).then((x) => setSrc((u = x)), () => {}); return () => u && URL.revokeObjectURL(u) }, [code])
  const print = () => { const w = window.open(''); w.document.write(`<img src="${src}" style="width:80%">`); w.print() }
  return src ? html`<div class="qr"><img src=${src} alt="QR" width="96" height="96" /><button class="link" onClick=${print}>${t('print')}</button></div>` : null
}

async function loadCodes() {
  const [codes, groups] = await Promise.all([all('/v1/live-codes'), all('/v1/groups')])
  const byId = Object.fromEntries(groups.map((g) => [g.id, g]))
  const stats = await Promise.all(codes.map((c) => getOr(`/v1/live-codes/${c.code}/stats`, { totals: [] })))
  codes.forEach((c, i) => { c.scans = (stats[i].scans || []).reduce((a, x) => a + x.scans, 0) })
  return { codes, groups, byId }
}

export function LiveCodes() {
  const st = useLoad(loadCodes)
  const create = async (v) => {
    const pool = (v.groups || []).map((g) => ({ group_id: g, ...(v.threshold ? { scan_threshold: Number(v.threshold) } : {}) }))
    await post('/v1/live-codes', { name: v.name, pool }, idem())
    st.reload()
  }
  return html`<div id="page-livecodes">
    <${Load} state=${st}>${({ codes, groups, byId }) => html`
      <${Card} title=${t('livecodes')}>
        <${Table} id="livecodes-table" rows=${codes} cols=${[
          { label: t('name'), render: (c) => html`<b>${c.name}</b>${c.needs_group ? html` <span class="badge warn">!</span>` : null}` },
          { label: t('pool'), render: (c) => html`<div class="pool">${(c.pool || []).map((p) => {
            const g = byId[p.group_id] || { name: p.group_id, members: 0 }
            return html`<div class="pool-row"><span>${g.name}</span><${FillBar} value=${g.members} max=${p.scan_threshold || g.capacity} /></div>`
          })}</div>` },
          { label: t('scans'), key: 'scans' },
          { label: t('qr'), render: (c) => html`<${QR} code=${c.code} />` },
          { label: t('resolveUrl'), render: (c) => html`<a href=${c.resolve_url} target="_blank" rel="noopener" class="mono">${c.code}</a>` }]} />
      <//>
      <${Card} title=${t('newLiveCode')}>
        <${Form} id="livecode-form" submit=${create} fields=${[
          { name: 'name', label: t('name'), required: true },
          { name: 'groups', label: t('selectGroups'), type: 'multi', options: groups.filter((g) => g.status !== 'archived').map((g) => [g.id, g.name]) },
          { name: 'threshold', label: t('threshold'), type: 'number' }]} />
      <//>`}<//>
  </div>`
}
