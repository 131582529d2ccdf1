// Charts are Apache ECharts, imported piece by piece (line, bar, funnel, canvas).
import * as echarts from 'echarts/core'
import { LineChart, BarChart, FunnelChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, TitleComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'
import { html } from 'htm/preact'
import { useEffect, useRef } from 'preact/hooks'

echarts.use([LineChart, BarChart, FunnelChart, GridComponent, TooltipComponent, LegendComponent, TitleComponent, CanvasRenderer])

const palette = ['#2f6fed', '#17a673', '#f0a020', '#d9534f', '#7b61ff', '#13a8a8']

export function Chart({ option, height = 260, id }) {
  const el = useRef(null)
  const chart = useRef(null)
  useEffect(() => {
    chart.current = echarts.init(el.current, null, { renderer: 'canvas' })
    const onResize = () => chart.current && chart.current.resize()
    window.addEventListener('resize', onResize)
    return () => { window.removeEventListener('resize', onResize); chart.current.dispose(); chart.current = null }
  }, [])
  useEffect(() => { chart.current && chart.current.setOption({ color: palette, ...option }, true) }, [option])
  return html`<div class="chart" id=${id} ref=${el} style=${{ height: height + 'px' }}></div>`
}

// lineOption is a day-axis line chart of named series.
export function lineOption(days, named, { area = false, bar = false } = {}) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: days.map((d) => d.slice(5)), boundaryGap: bar },
    yAxis: { type: 'value', minInterval: 1 },
    series: named.map(([name, data]) => ({
      name, data, type: bar ? 'bar' : 'line', showSymbol: false,
      ...(area ? { areaStyle: { opacity: 0.12 } } : {}),
    })),
  }
}

export function funnelOption(steps) {
  return {
    tooltip: { trigger: 'item', formatter: '{b}: {c}' },
    series: [{
      type: 'funnel', left: '8%', width: '84%', top: 10, bottom: 10, sort: 'none', minSize: '8%',
      min: 0, max: Math.max(1, ...steps.map(([, v]) => v)),
      label: { show: true, position: 'inside', formatter: '{b} {c}' },
      data: steps.map(([name, value]) => ({ name, value })),
    }],
  }
}
