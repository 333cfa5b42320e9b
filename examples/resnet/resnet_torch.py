"""Original program: ResNet classification with PyTorch + torchvision (as in the precision
alignment manual, section 5). Written for portlint's example; not copied from anywhere."""
import argparse
import logging

import torch
from PIL import Image
from torchvision import transforms

logging.basicConfig(level=logging.INFO)


def build_transform(size):
    return transforms.Compose([
        transforms.Resize((size, size)),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])


def main(args):
    model = torch.jit.load(args.model)
    model.eval()
    transform = build_transform(args.size)
    img = Image.open(args.input).convert("RGB")
    input_tensor = transform(img).unsqueeze(0)
    with torch.no_grad():
        output = model(input_tensor)
    score, res = torch.max(output, 1)
    logging.info("filename: %s, res: %d, score: %f", args.input, res.item(), score.item())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=str, default="test.jpg")
    parser.add_argument("--model", type=str, default="resnet_traced.pt")
    parser.add_argument("--size", type=int, default=224)
    main(parser.parse_args())
