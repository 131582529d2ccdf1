import { html } from 'htm/preact'
import { t } from '../i18n.js'
import { all, getOr } from '../api.js'
import { Card, Load, useLoad, Table } from '../ui.js'
import { JSONEditor } from './loyalty.js'

async function violations() {
  const groups = await all('/v1/groups')
  const lists = await Promise.all(groups.map((g) => getOr(`/v1/groups/${g.id}/violations?limit=50`, { data: [] })))
  const name = Object.fromEntries(groups.map((g) => [g.id, g.name]))
  return lists.flatMap((l) => l.data).map((v) => ({ ...v, group: name[v.group_id] })).sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 100)
}

export function Moderation() {
  const st = useLoad(violations)
  return html`<div id="page-moderation">
    <${Card} title=${t('rules')}><${JSONEditor} path="/v1/moderation/rules" id="moderation-rules" /><//>
    <${Card} title=${t('violations')}>
      <${Load} state=${st}>${(vs) => html`<${Table} id="violations-table" rows=${vs} cols=${[
        { label: t('at'), key: 'at' }, { label: t('group'), key: 'group' }, { label: t('memberId'), key: 'member_id' },
        { label: t('rules'), key: 'rules' }, { label: t('actions'), key: 'actions' }, { label: t('excerpt'), key: 'excerpt' }]} />`}<//>
    <//>
  </div>`
}
