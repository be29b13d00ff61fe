from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_quality import ImageQuality
from ..models.image_size import ImageSize
from ..models.image_style import ImageStyle
from ..models.response_format import ResponseFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateImageRequest")


@_attrs_define
class CreateImageRequest:
    """
    Attributes:
        prompt (str): 图像描述
        model (str | Unset):  Example: dall-e-3.
        n (int | Unset):  Default: 1.
        size (ImageSize | Unset):  Default: ImageSize.VALUE_2.
        quality (ImageQuality | Unset):  Default: ImageQuality.STANDARD.
        style (ImageStyle | Unset):  Default: ImageStyle.VIVID.
        response_format (ResponseFormat | Unset):  Default: ResponseFormat.URL.
        user (str | Unset):
    """

    prompt: str
    model: str | Unset = UNSET
    n: int | Unset = 1
    size: ImageSize | Unset = ImageSize.VALUE_2
    quality: ImageQuality | Unset = ImageQuality.STANDARD
    style: ImageStyle | Unset = ImageStyle.VIVID
    response_format: ResponseFormat | Unset = ResponseFormat.URL
    user: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        prompt = self.prompt

        model = self.model

        n = self.n

        size: str | Unset = UNSET
        if not isinstance(self.size, Unset):
            size = self.size.value

        quality: str | Unset = UNSET
        if not isinstance(self.quality, Unset):
            quality = self.quality.value

        style: str | Unset = UNSET
        if not isinstance(self.style, Unset):
            style = self.style.value

        response_format: str | Unset = UNSET
        if not isinstance(self.response_format, Unset):
            response_format = self.response_format.value

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "prompt": prompt,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model
        if n is not UNSET:
            field_dict["n"] = n
        if size is not UNSET:
            field_dict["size"] = size
        if quality is not UNSET:
            field_dict["quality"] = quality
        if style is not UNSET:
            field_dict["style"] = style
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        prompt = d.pop("prompt")

        model = d.pop("model", UNSET)

        n = d.pop("n", UNSET)

        _size = d.pop("size", UNSET)
        size: ImageSize | Unset
        if isinstance(_size, Unset):
            size = UNSET
        else:
            size = ImageSize(_size)

        _quality = d.pop("quality", UNSET)
        quality: ImageQuality | Unset
        if isinstance(_quality, Unset):
            quality = UNSET
        else:
            quality = ImageQuality(_quality)

        _style = d.pop("style", UNSET)
        style: ImageStyle | Unset
        if isinstance(_style, Unset):
            style = UNSET
        else:
            style = ImageStyle(_style)

        _response_format = d.pop("response_format", UNSET)
        response_format: ResponseFormat | Unset
        if isinstance(_response_format, Unset):
            response_format = UNSET
        else:
            response_format = ResponseFormat(_response_format)

        user = d.pop("user", UNSET)

        create_image_request = cls(
            prompt=prompt,
            model=model,
            n=n,
            size=size,
            quality=quality,
            style=style,
            response_format=response_format,
            user=user,
        )

        create_image_request.additional_properties = d
        return create_image_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
