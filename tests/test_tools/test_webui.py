"""tools/webui.py: the page's callback, and the page itself in Debian's headless Chromium."""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from vlbert_e2e.apis import VLBertInferencer
from vlbert_e2e.testing import ROOT

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')
CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'
QUESTION = 'is there a circle?'


def _webui():
    spec = importlib.util.spec_from_file_location('webui', os.path.join(ROOT, 'tools/webui.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_webui_callback_answers_and_raises_page_errors(tiny_vl_checkpoint, tmp_path,
                                                       capsys):
    import gradio as gr
    webui = _webui()
    assert webui.main(['--config', str(tmp_path / 'nope.py'), '--checkpoint', 'k.pth']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: ') and 'nope.py' in err[0], err
    demo = webui.WebDemo(VLBertInferencer(*tiny_vl_checkpoint))
    text, annotated, region, matrix, details = demo(IMG, 'vqa', QUESTION)
    r = json.loads(details)
    assert r['answer'] in ('yes', 'no', '2') and text.startswith(r['answer'])
    assert r['attention']['query_tokens'] == ['[MASK]']
    for pic in (annotated, region, matrix):
        assert pic.ndim == 3 and pic.shape[2] == 3
    _, _, region, matrix, _ = demo(IMG, 'detect', '')
    assert region is None and matrix is None
    bad = tmp_path / 'notes.jpg'
    bad.write_text('this is not a picture')
    from gradio.data_classes import FileData
    with pytest.raises(gr.Error, match='cannot decode image file notes.jpg'):
        webui.picture_input().preprocess(FileData(path=str(bad), orig_name='notes.jpg'))
    for args, msg in (((None, 'vqa', 'q'), 'Upload a picture'),
                      ((IMG, 'vqa', '  '), 'Type a text'),
                      ((str(bad), 'vqa', 'q'), r'cannot decode image.*: notes.jpg'),
                      ((IMG, 'fill', 'no mask'), r'needs \[MASK\]')):
        with pytest.raises(gr.Error, match=msg):
            demo(*args)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _wait_for_server(proc, url: str, log, timeout: float = 60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            pytest.fail(f'webui exited ({proc.returncode}): {log.read_text()[-2000:]}')
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f'webui did not answer on {url} in {timeout} s: {log.read_text()[-2000:]}')


def _chromium(profile):
    """Headless Chromium through chromedriver; every host but loopback goes to a dead
    proxy, so a page that fetched anything from the network would show it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
              '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
              f'--user-data-dir={profile}', '--window-size=1280,1500',
              '--proxy-server=127.0.0.1:9'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def _network_requests(driver) -> set:
    """URLs the browser asked for from hosts other than this machine (the browser's own
    chrome:// pages, data: and blob: URLs are no network)."""
    urls = set()
    for entry in driver.get_log('performance'):
        msg = json.loads(entry['message'])['message']
        if msg['method'] == 'Network.requestWillBeSent':
            u = urlparse(msg['params']['request']['url'])
            if u.scheme in ('http', 'https', 'ws', 'wss') and u.hostname != '127.0.0.1':
                urls.add(u.geturl())
    return urls


def test_webui_in_headless_chromium(tiny_vl_checkpoint, tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        pytest.fail(f'{" and ".join(missing)} missing: apt-get install -y chromium '
                    'chromium-driver (tools/install/setup_env.sh does it as root)',
                    pytrace=False)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    cfg, ckpt = tiny_vl_checkpoint
    port, log = _free_port(), tmp_path / 'webui.log'
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS='ignore', NO_PROXY='127.0.0.1')
    with open(log, 'w') as out:
        server = subprocess.Popen([sys.executable, 'tools/webui.py', '--config', cfg,
                                   '--checkpoint', ckpt, '--port', str(port)], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    driver = None
    try:  # while the server starts: the answer to expect, the browser
        (expected, ) = VLBertInferencer(cfg, ckpt)([IMG], 'vqa', QUESTION)
        driver = _chromium(tmp_path / 'profile')
        url = f'http://127.0.0.1:{port}/'
        _wait_for_server(server, url, log)
        wait = WebDriverWait(driver, 60)
        driver.get(url)
        upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR,
                                                     '#picture input[type=file]'))
        upload.send_keys(IMG)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#picture img'))
        box = driver.find_element(By.CSS_SELECTOR, '#text textarea, #text input')
        box.send_keys(QUESTION)
        driver.find_element(By.CSS_SELECTOR, '#run').click()
        answer = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, '#answer textarea, #answer input').get_attribute('value'))
        assert answer.startswith(expected['answer'] + ' ') and 'score' in answer, answer
        for elem in ('annotated', 'attention', 'text_attention'):
            wait.until(lambda d: d.execute_script(
                f'const i = document.querySelector("#{elem} img");'
                'return i !== null && i.complete && i.naturalWidth > 0;'))
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '.pending'))  # un-faded
        time.sleep(0.5)  # the fade-in transition
        driver.save_screenshot(str(tmp_path / 'webui.png'))
        bad = tmp_path / 'notes.jpg'  # a text file: the page names it in an error
        bad.write_text('this is not a picture')
        driver.find_element(By.CSS_SELECTOR, '#picture button[aria-label="Remove Image"]'
                            ).click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#picture input[type=file]')
                   ).send_keys(str(bad))
        driver.find_element(By.CSS_SELECTOR, '#run').click()
        wait.until(lambda d: 'cannot decode image file notes.jpg' in d.page_source)
        outside = _network_requests(driver)
        assert not outside, f'the page fetched from the network: {sorted(outside)[:5]}'
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / 'webui.png').stat().st_size > 0
    if os.environ.get('VLBERT_WEBUI_SCREENSHOT'):  # to refresh docs/images/webui.png
        shutil.copy(tmp_path / 'webui.png', os.environ['VLBERT_WEBUI_SCREENSHOT'])
