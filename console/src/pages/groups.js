import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { all, get, getOr, post } from '../api.js'
import { Card, Load, useLoad, Table, FillBar, Form, Badge, idem, localDay } from '../ui.js'
import { Chart, lineOption } from '../chart.js'
import { lastDays, groupStats, pctOf } from '../stats.js'

// The table: each group with its last 7 days from GET /v1/stats/groups (active
// ratio = average daily active members ÷ members, messages, joins, leaves).
async function loadGroups() {
  const [groups, stats] = await Promise.all([all('/v1/groups'), groupStats(7)])
  groups.forEach((g) => { g.stats = stats[g.id] || {} })
  // Violations per group (the last page of 100 is plenty for a count badge).
  const counts = await Promise.all(groups.map((g) => getOr(`/v1/groups/${g.id}/violations?limit=100`, { data: [] })))
  groups.forEach((g, i) => { g.violations = counts[i].data.length; g.moreViolations = !!counts[i].next_cursor })
  return groups
}

function GroupDetail({ id, onClose }) {
  const st = useLoad(async () => {
    const [g, members, viol] = await Promise.all([get('/v1/groups/' + id), all(`/v1/groups/${id}/members`, 300), getOr(`/v1/groups/${id}/violations?limit=100`, { data: [] })])
    const names = {}
    await Promise.all(members.slice(0, 30).map((m) => getOr('/v1/members/' + m.member_id, null).then((x) => { if (x) names[m.member_id] = x.name })))
    return { g, members, viol: viol.data, names }
  }, [id])
  return html`<${Card} title=${t('groupDetail')} id="group-detail" extra=${html`<button class="link" onClick=${onClose}>${t('close')}</button>`}>
    <${Load} state=${st}>${({ g, members, viol, names }) => {
      const days = lastDays(30)
      const joins = days.map((d) => members.filter((m) => localDay(m.joined_at) === d).length)
      const vs = days.map((d) => viol.filter((v) => localDay(v.at) === d).length)
      return html`<h3>${g.name}</h3>
        <div class="muted">${g.platform} · ${g.type} · ${g.status}</div>
        <${Chart} id="group-chart" height=${200} option=${lineOption(days, [[t('joinsPerDay'), joins], [t('violations'), vs]], { bar: true })} />
        <${Table} cols=${[
          { label: t('memberId'), render: (m) => names[m.member_id] || m.member_id },
          { label: t('role'), key: 'role' }, { label: t('joinedAt'), key: 'joined_at' }]} rows=${members.slice(0, 50)} />`
    }}<//>
  <//>`
}

export function Groups({ me }) {
  const st = useLoad(loadGroups)
  const mine = (me && me.groups) || []
  const [onlyMine, setOnlyMine] = useState(mine.length > 0)
  const [open, setOpen] = useState(null)
  const create = async (v) => {
    const body = { platform: v.platform || 'wecom', type: v.type || 'brand' }
    if (v.region || v.category) body.naming = { region: v.region, category: v.category, number: Number(v.number || 1) }
    else body.name = v.name
    if (v.capacity) body.capacity = Number(v.capacity)
    if (v.qr_join_cap) body.qr_join_cap = Number(v.qr_join_cap)
    await post('/v1/groups', body, idem())
    st.reload()
  }
  return html`<div id="page-groups">
    ${open && html`<${GroupDetail} id=${open} onClose=${() => setOpen(null)} />`}
    <${Card} title=${t('groups')} extra=${mine.length ? html`<label class="toggle"><input type="checkbox" checked=${onlyMine} onChange=${(e) => setOnlyMine(e.target.checked)} /> ${t('myGroups')}</label>` : null}>
      <${Load} state=${st}>${(groups) => html`<${Table} id="groups-table" onRow=${(g) => setOpen(g.id)}
        rows=${groups.filter((g) => !onlyMine || mine.includes(g.id))}
        cols=${[
          { label: t('name'), render: (g) => html`<b>${g.name}</b>` },
          { label: t('platform'), key: 'platform' },
          { label: t('capacity'), render: (g) => html`<${FillBar} value=${g.members} max=${g.capacity} />` },
          { label: t('qrCap'), render: (g) => html`<${FillBar} value=${g.members} max=${g.qr_join_cap} />` },
          { label: t('activeRatio') + ' · ' + t('last7'), render: (g) => pctOf(g.stats.active_ratio) },
          { label: t('messages'), render: (g) => g.stats.messages ?? '—' },
          { label: t('joinGroup') + ' / ' + t('leaves'), render: (g) => g.stats.joins === undefined ? '—' : `+${g.stats.joins} / −${g.stats.leaves}` },
          { label: t('violations'), render: (g) => g.violations > 0 ? html`<${Badge} tone="warn">${g.violations}${g.moreViolations ? '+' : ''}<//>` : '0' },
          { label: t('status'), key: 'status' }]} />`}<//>
    <//>
    <${Card} title=${t('newGroup')}>
      <${Form} id="group-form" initial=${{ platform: 'wecom' }} submit=${create} fields=${[
        { name: 'region', label: t('region') }, { name: 'category', label: t('category') },
        { name: 'number', label: t('number'), type: 'number' },
        { name: 'platform', label: t('platform'), type: 'select', options: [['wecom', '企业微信'], ['wechat', '微信'], ['feishu', '飞书'], ['dingtalk', '钉钉'], ['telegram', 'Telegram']] },
        { name: 'capacity', label: t('capacity'), type: 'number' }, { name: 'qr_join_cap', label: t('qrCap'), type: 'number' }]} />
    <//>
  </div>`
}

