import { html } from 'htm/preact'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import './style.css'
import { t, getLang, setLang } from './i18n.js'
import { session, login, get, setLogoutHandler } from './api.js'
import { ErrorBox } from './ui.js'
import { Today } from './pages/today.js'
import { Groups } from './pages/groups.js'
import { LiveCodes } from './pages/livecodes.js'
import { Channels } from './pages/channels.js'
import { Members } from './pages/members.js'
import { Loyalty } from './pages/loyalty.js'
import { Moderation } from './pages/moderation.js'
import { Campaigns, Referrals, Deliveries } from './pages/campaigns.js'
import { Settings } from './pages/settings.js'

const PAGES = [
  ['today', Today], ['groups', Groups], ['livecodes', LiveCodes], ['channels', Channels], ['members', Members],
  ['loyalty', Loyalty], ['moderation', Moderation], ['campaigns', Campaigns], ['referrals', Referrals],
  ['deliveries', Deliveries], ['settings', Settings],
]

const route = () => (location.hash.replace(/^#\/?/, '') || 'today').split('/')[0]

function Login({ onDone }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e) => {
    e.preventDefault(); setBusy(true); setError(null)
    try { onDone(await login(email, password)) } catch (err) { setError(err.status === 401 ? new Error(t('loginFailed')) : err) } finally { setBusy(false) }
  }
  return html`<div class="login-wrap"><form class="login card" id="login-form" onSubmit=${submit}>
    <h1>${t('app')}</h1><h2>${t('loginTitle')}</h2>
    <label class="field"><span>${t('email')}</span><input id="login-email" type="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} /></label>
    <label class="field"><span>${t('password')}</span><input id="login-password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
    <button id="login-submit" type="submit" disabled=${busy}>${t('login')}</button>
    <${ErrorBox} error=${error} />
    <button type="button" class="link" onClick=${() => { setLang(getLang() === 'zh' ? 'en' : 'zh'); onDone(null) }}>${t('lang')}</button>
  </form></div>`
}

function App() {
  const [sess, setSess] = useState(session.get())
  const [page, setPage] = useState(route())
  const [me, setMe] = useState(null)
  const [, setTick] = useState(0)
  const [menu, setMenu] = useState(false)
  useEffect(() => {
    const on = () => { setPage(route()); setMenu(false) }
    window.addEventListener('hashchange', on)
    setLogoutHandler(() => { session.clear(); setSess(null) })
    return () => window.removeEventListener('hashchange', on)
  }, [])
  useEffect(() => { if (sess) get('/v1/staff/me').then(setMe, () => setMe(sess.staff || null)) }, [sess])
  if (!sess) return html`<${Login} onDone=${(s) => { if (s) setSess(s); else setTick((x) => x + 1) }} />`
  const Page = (PAGES.find(([k]) => k === page) || PAGES[0])[1]
  const current = (PAGES.find(([k]) => k === page) || PAGES[0])[0]
  return html`<div class="shell">
    <header class="top">
      <button class="burger" aria-label="menu" onClick=${() => setMenu(!menu)}>☰</button>
      <div class="brand">${t('app')}</div>
      <div class="top-right">
        <span class="who">${me ? (me.name || me.email) + ' · ' + t(me.role) : ''}</span>
        <button class="link" id="lang-switch" onClick=${() => { setLang(getLang() === 'zh' ? 'en' : 'zh'); setTick((x) => x + 1) }}>${t('lang')}</button>
        <button class="link" id="logout" onClick=${() => { session.clear(); setSess(null) }}>${t('logout')}</button>
      </div>
    </header>
    <nav class=${menu ? 'side open' : 'side'}>
      ${PAGES.map(([k]) => html`<a id=${'nav-' + k} class=${k === current ? 'on' : ''} href=${'#/' + k} onClick=${() => setMenu(false)}>${t(k)}</a>`)}
    </nav>
    <main class="main"><h1 class="page-title">${t(current)}</h1><${Page} key=${current + getLang()} me=${me} /></main>
  </div>`
}

render(html`<${App} />`, document.getElementById('app'))
