"""Gradio's own words on the page, in Chinese whatever language the browser asks for.

Gradio translates its interface by the browser's language, and its Chinese is incomplete
("Copy message" stays English). Two ways in, because Gradio has two kinds of words:
- words it looks up by key (chatbot.copy_message, errors.use_via_api …): given to Gradio's
  i18n (`launch(i18n=…)`) under every language it knows, so an English or French browser
  gets Chinese too;
- words written into its components (aria-labels and tooltips such as "Scroll down", the
  toasts' "Info" title): replaced in the page by PAGE_JS as they appear.
"""

from __future__ import annotations

import json

# Gradio's keys for the components this page uses (chatbot, buttons, dropdowns, slider,
# accordion, the footer, the login page, the status tracker)
GRADIO_WORDS: dict[str, str] = {
    "chatbot.copy_message": "复制消息",
    "chatbot.copied_message": "已复制",
    "chatbot.like": "有用",
    "chatbot.dislike": "没用",
    "chatbot.clear": "清空对话",
    "chatbot.retry": "重新回答",
    "chatbot.undo": "撤销",
    "chatbot.edit": "编辑",
    "chatbot.submit": "发送",
    "chatbot.cancel": "取消",
    "chatbot.complete": "完成",
    "chatbot.chatbot": "对话",
    "chatbot.conversation": "对话",
    "common.clear": "清除",
    "common.copy": "复制",
    "common.copied": "已复制",
    "common.download": "下载",
    "common.download_all": "全部下载",
    "common.edit": "编辑",
    "common.empty": "空",
    "common.error": "错误",
    "common.loading": "加载中",
    "common.remove": "移除",
    "common.settings": "设置",
    "common.submit": "提交",
    "common.undo": "撤销",
    "common.language": "语言",
    "common.display_theme": "显示主题",
    "common.progress": "进度",
    "common.built_with_gradio": "由 Gradio 构建",
    "common.built_with": "构建于",
    "dropdown.dropdown": "下拉选择",
    "dropdown.no_options": "没有可选项",
    "checkbox.checkbox": "复选框",
    "checkbox.checkbox_group": "复选框组",
    "radio.radio": "单选",
    "slider.slider": "滑块",
    "slider.reset": "恢复默认",
    "errors.use_via_api": "通过 API 使用",
    "errors.use_via_api_or_mcp": "通过 API 使用",
    "errors.connection_can_break": "在手机上，切换标签页或锁屏可能会中断连接。",
    "errors.lost_connection": "离开页面后连接已断开，正在重新连接…",
    "errors.waiting_for_inputs": "请等待文件上传完成后再试。",
    "blocks.connection_can_break": "在手机上，切换标签页或锁屏可能会中断连接。",
    "blocks.lost_connection": "离开页面后连接已断开，正在重新连接…",
    "blocks.waiting_for_inputs": "请等待文件上传完成后再试。",
    "login.login": "登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.incorrect_credentials": "用户名或密码不正确",
    "login.enable_cookies": "请允许本站使用 Cookie 后再登录。",
}

# every language Gradio ships a translation for (and so may pick from the browser), plus the
# bare "zh" and "en" it falls back to
GRADIO_LOCALES = (
    "ar ca ckb de en es et eu fa fi fr he hi ja ko lt nb nl pl pt-BR pt ro ru sv ta th tr uk ur "
    "uz zh zh-CN zh-TW zh-HK"
).split()

# words Gradio writes into its components without a key (attributes, mostly for screen
# readers and tooltips); a key ending in a space is a prefix (the rest is the message or label)
FIXED_WORDS: dict[str, str] = {
    "chatbot conversation": "对话记录",
    "user's message: ": "提问：",
    "bot's message: ": "回答：",
    "Scroll down": "滚动到最新",
    "Copy message": "复制消息",
    "Copied message": "已复制",
    "Like": "有用",
    "Dislike": "没用",
    "Liked": "已标为有用",
    "Disliked": "已标为没用",
    "Info": "提示",
    "Warning": "注意",
    "Error": "错误",
    "Clear": "清空对话",
    "Close": "关闭",
    "Gradio footer navigation": "页脚",
    "number input for ": "输入数值：",
    "range slider for ": "拖动选择：",
    "Reset to default value": "恢复默认值",
    "Loading response": "正在回答",
    "Dismiss": "关闭",
    "Remove": "移除",
    "Select all": "全选",
    "Open in new tab": "在新标签页打开",
    "View full screen": "全屏查看",
    "Close full screen": "退出全屏",
    "Loading...": "加载中…",
    "Download": "下载",
    "Settings": "设置",
}


def gradio_i18n():
    """The Chinese words for Gradio's i18n, under every language it may choose."""
    import gradio as gr

    return gr.I18n(**{locale: dict(GRADIO_WORDS) for locale in GRADIO_LOCALES})


# Runs once in the page (launch(js=…)): translates FIXED_WORDS in attributes as Gradio adds
# or re-renders its components.
PAGE_JS = """
() => {
  const words = %s;
  const prefixes = Object.keys(words).filter((w) => w.endsWith(' '));
  const attrs = ['aria-label', 'title', 'placeholder'];
  const translate = (el) => {
    for (const name of attrs) {
      const value = el.getAttribute(name);
      if (!value) continue;
      if (words[value] && !value.endsWith(' ')) { el.setAttribute(name, words[value]); continue; }
      const prefix = prefixes.find((p) => value.startsWith(p));
      if (prefix) el.setAttribute(name, words[prefix] + value.slice(prefix.length));
    }
  };
  // texts Gradio writes as a component's own words (the toast's title)
  const texts = '.toast-title';
  const retext = (el) => {
    for (const node of el.childNodes) {
      const word = node.nodeType === 3 && words[node.textContent.trim()];
      if (word) node.textContent = word + ' ';
    }
  };
  const sweep = (root) => {
    if (root.nodeType !== 1) return;
    translate(root);
    root.querySelectorAll('[aria-label],[title],[placeholder]').forEach(translate);
    if (root.matches(texts)) retext(root);
    root.querySelectorAll(texts).forEach(retext);
  };
  sweep(document.body);
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === 'attributes') translate(change.target);
      else change.addedNodes.forEach(sweep);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: attrs});
}
""" % json.dumps(FIXED_WORDS, ensure_ascii=False)
