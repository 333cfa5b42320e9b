"""Ported program: the same ResNet classifier on a Sophgo TPU through SOPHON-SAIL, written the
way sophon-demo's ResNet/python/resnet_opencv.py is (cv2 pre-processing, numpy normalisation)."""
import argparse
import logging

import cv2
import numpy as np
import sophon.sail as sail

logging.basicConfig(level=logging.INFO)


class Resnet(object):
    def __init__(self, args):
        self.net = sail.Engine(args.bmodel, args.dev_id, sail.IOMode.SYSIO)
        self.graph_name = self.net.get_graph_names()[0]
        self.input_name = self.net.get_input_names(self.graph_name)[0]
        self.input_shape = self.net.get_input_shape(self.graph_name, self.input_name)
        self.net_h = self.input_shape[2]
        self.net_w = self.input_shape[3]
        self.mean = [0.485, 0.456, 0.406]
        self.std = [0.229, 0.224, 0.225]

    def preprocess(self, img):
        h, w, _ = img.shape
        if h != self.net_h or w != self.net_w:
            img = cv2.resize(img, (self.net_w, self.net_h))
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        img = img.astype('float32')
        img = (img / 255 - self.mean) / self.std
        img = np.transpose(img, (2, 0, 1))
        return img

    def predict(self, input_img):
        input_data = {self.input_name: input_img}
        outputs = self.net.process(self.graph_name, input_data)
        return list(outputs.values())[0]

    def __call__(self, img):
        img = self.preprocess(img)
        input_img = np.expand_dims(img, 0)
        outputs = self.predict(input_img)
        return int(np.argmax(outputs[0])), float(np.max(outputs[0]))


def main(args):
    resnet = Resnet(args)
    src_img = cv2.imread(args.input)
    res, score = resnet(src_img)
    logging.info("filename: %s, res: %d, score: %f", args.input, res, score)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=str, default="test.jpg")
    parser.add_argument("--bmodel", type=str, default="resnet18_fp32_b1.bmodel")
    parser.add_argument("--dev_id", type=int, default=0)
    main(parser.parse_args())
