"""A web page to ask a trained VL-BERT about a picture (Gradio, offline, loopback).

python tools/webui.py --config C --checkpoint K [--host 127.0.0.1] [--port 7860]
    [--device cpu] [--score-thr 0.3]

Upload a picture or pick an example, choose the task (VQA / ground / fill / detect),
type the text: the page shows the answer with its score, the annotated picture, where
the answering token looked (a heat over the regions, top regions listed) and the
text-to-text attention. Nothing is fetched from the network (analytics off, system
fonts); it listens on 127.0.0.1 unless --host says otherwise.
"""
import argparse
import json
import os
import sys
import threading

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # read when gradio imports
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES_VAL = os.path.join(ROOT, 'data/shapes/images')
TASK_CHOICES = [('VQA: answer a question', 'vqa'), ('Ground: find the object', 'ground'),
                ('Fill: the [MASK] word', 'fill'), ('Detect: boxes only', 'detect')]
DETAIL_KEYS_LEFT_OUT = ('per_layer_head', 'text_matrix', 'text_tokens')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--host', default='127.0.0.1', help='127.0.0.1: this machine only')
    p.add_argument('--port', type=int, default=7860)
    p.add_argument('--device', default='cpu')
    p.add_argument('--score-thr', type=float, default=0.3)
    return p.parse_args(argv)


def example_images(n_shapes: int = 3) -> list:
    """``[[image, task, text]]``: the first shapes val pictures (when ``data/shapes``
    exists) and matplotlib's sample photograph (matplotlib comes with mmdet)."""
    rows = []
    if os.path.isdir(SHAPES_VAL):
        val = sorted(f for f in os.listdir(SHAPES_VAL) if f.startswith('COCO_val_'))
        rows += [[os.path.join(SHAPES_VAL, f), 'vqa', 'how many shapes are there?']
                 for f in val[:n_shapes]]
    import matplotlib
    photo = os.path.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg')
    if os.path.isfile(photo):
        rows.append([photo, 'vqa', 'what is the woman wearing?'])
    return rows


class WebDemo:
    """The page's callback around one :class:`VLBertInferencer` (one call at a time:
    the attention switch of a call must not leak into another)."""

    def __init__(self, inferencer) -> None:
        self.inferencer = inferencer
        self.lock = threading.Lock()

    def __call__(self, image, task: str, text: str, progress=None):
        import gradio as gr

        from vlbert_e2e.apis import InferenceError, answer_line
        from vlbert_e2e.apis.attention import draw_attention
        from vlbert_e2e.apis.inferencer import read_rgb
        progress = progress or (lambda *a, **k: None)
        path = image.get('path') if isinstance(image, dict) else image
        if not path:
            raise gr.Error('Upload a picture or pick an example first.')
        if task != 'detect' and not (text or '').strip():
            raise gr.Error(f'Type a text for the {task} task (a question, an expression, '
                           'or a caption with [MASK]).')
        progress(0.2, desc='running the model')
        try:
            with self.lock:
                (r, ) = self.inferencer([path], task, text, return_attention=task != 'detect')
        except InferenceError as e:
            raise gr.Error(str(e).replace(path, os.path.basename(path))) from None
        progress(0.8, desc='drawing')
        rgb = read_rgb(r)
        annotated = self.inferencer.draw(r, rgb)
        region_pic = text_pic = None
        if 'attention' in r:
            region_pic, text_pic = draw_attention(r['attention'], rgb)
            r['attention'] = {k: v for k, v in r['attention'].items()
                              if k not in DETAIL_KEYS_LEFT_OUT}
        r['image'] = os.path.basename(r['image'])
        return answer_line(r), annotated, region_pic, text_pic, json.dumps(r, indent=1)


def picture_input(**kwargs):
    """A ``gr.Image`` upload whose unreadable files become an error in the page naming
    the file, instead of Gradio's bare "Error"."""
    import gradio as gr
    image = gr.Image(type='filepath', image_mode=None, **kwargs)
    decode = image.preprocess

    def preprocess(payload):
        try:
            return decode(payload)
        except (OSError, ValueError, SyntaxError):  # what PIL raises on a bad file
            name = getattr(payload, 'orig_name', None) or 'the upload'
            raise gr.Error(f'cannot decode image file {name} (not a picture, or a '
                           'damaged one)') from None
    # on this instance: a gr.Image subclass would make Gradio write a .pyi next to us
    image.preprocess = preprocess
    return image


def build_app(demo: WebDemo, examples: list):
    """The Gradio page (``gr.Blocks``); ``launch`` it to serve."""
    import gradio as gr
    with gr.Blocks(title='VL-BERT end to end') as app:
        gr.Markdown('## VL-BERT, end to end from pixels\nUpload a picture or pick an '
                    'example, choose the task, type the text and press **Run**.')
        with gr.Row():
            with gr.Column():
                image = picture_input(sources=['upload'], label='Picture', elem_id='picture')
                task = gr.Radio(TASK_CHOICES, value='vqa', label='Task', elem_id='task')
                text = gr.Textbox(label='Text', elem_id='text', lines=1,
                                  placeholder='how many shapes are there?')
                run = gr.Button('Run', variant='primary', elem_id='run')
            with gr.Column():
                answer = gr.Textbox(label='Answer', elem_id='answer', interactive=False)
                # the pictures carry their own captions and legends
                annotated = gr.Image(label='Annotated picture', elem_id='annotated',
                                     interactive=False, format='png', show_label=False)
        with gr.Row():
            region = gr.Image(label='Attention over regions', elem_id='attention',
                              interactive=False, format='png', show_label=False)
            matrix = gr.Image(label='Text-to-text attention', elem_id='text_attention',
                              interactive=False, format='png', show_label=False)
        details = gr.Code(label='Result (JSON)', language='json', elem_id='details')
        if examples:
            gr.Examples(examples, inputs=[image, task, text], label='Examples',
                        elem_id='examples')

        def call(image, task, text, progress=gr.Progress()):
            return demo(image, task, text, progress)
        run.click(call, [image, task, text], [answer, annotated, region, matrix, details])
        text.submit(call, [image, task, text], [answer, annotated, region, matrix, details])
    return app


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from vlbert_e2e.apis import InferenceError, VLBertInferencer
        from vlbert_e2e.utils import CheckpointError
        if not 0 < args.port < 65536:
            raise InferenceError(f'--port {args.port} is not a TCP port (1-65535)')
        inferencer = VLBertInferencer(args.config, args.checkpoint, device=args.device,
                                      score_thr=args.score_thr, show_progress=False)
    except (FileNotFoundError, InferenceError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    import gradio as gr
    examples = example_images()
    app = build_app(WebDemo(inferencer), examples)
    # system fonts only: the default theme would fetch Google Fonts
    theme = gr.themes.Default(font=['ui-sans-serif', 'system-ui', 'sans-serif'],
                              font_mono=['ui-monospace', 'monospace'])
    print(f'webui: serving on http://{args.host}:{args.port}', flush=True)
    app.queue(default_concurrency_limit=1).launch(
        server_name=args.host, server_port=args.port, share=False, inbrowser=False,
        show_error=True,
        theme=theme, allowed_paths=sorted({os.path.dirname(e[0]) for e in examples}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
